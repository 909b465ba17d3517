/**
 * mkdir -p, one level at a time. Node 20's own `mkdir(…, { recursive: true })`
 * never returns when mkdir(2) answers ENOENT although the parent exists, as
 * under /proc or /sys: it retries the parent (EEXIST), then the child again,
 * for ever — a thread-pool thread at 100 % CPU for the async form, the main
 * thread (no signal handling, no exit) for the sync form. Here every level is
 * tried once and its error is thrown.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export async function makeDirectory(directory: string): Promise<void> {
  // The common case on the hot path (a variant's directory exists already): one stat, no mkdir.
  if (await isDirectory(directory)) return;
  for (const level of levelsOf(directory)) {
    try {
      await fsp.mkdir(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !(await isDirectory(level))) throw error;
    }
  }
}

export function makeDirectorySync(directory: string): void {
  for (const level of levelsOf(directory)) {
    try {
      fs.mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectorySync(level)) throw error;
    }
  }
}

/** "/a/b/c" → ["/a", "/a/b", "/a/b/c"], skipping the levels that already exist as directories. */
function levelsOf(directory: string): string[] {
  const levels: string[] = [];
  for (let level = path.resolve(directory); !isDirectorySync(level); level = path.dirname(level)) {
    levels.unshift(level);
    if (path.dirname(level) === level) break;
  }
  return levels;
}

async function isDirectory(file: string): Promise<boolean> {
  return (await fsp.stat(file).catch(() => undefined))?.isDirectory() === true;
}

function isDirectorySync(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() === true;
}
