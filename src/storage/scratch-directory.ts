/**
 * Scratch directories for a bucket's spooled uploads and downloads: one
 * fresh directory per object, with a temp name (cleanup and listings never
 * take it for media), removed when its holder releases it; what a killed
 * process left is swept by age.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TEMP_PREFIX } from './atomic-file.js';
import { makeDirectory } from './make-directory.js';
import type { LocalFile } from './object-store.js';

const SCRATCH_PREFIX = `${TEMP_PREFIX}s3-`;

export async function createScratchDirectory(scratchDir: string): Promise<LocalFile> {
  await makeDirectory(scratchDir);
  const directory = await fsp.mkdtemp(path.join(scratchDir, SCRATCH_PREFIX));
  return { path: directory, release: () => fsp.rm(directory, { recursive: true, force: true }) };
}

/** Scratch directories older than `olderThanMs` (a live holder's are younger), as local paths. */
export async function removeStaleScratch(
  scratchDir: string,
  options: { olderThanMs: number; now: number; dryRun: boolean },
): Promise<string[]> {
  const entries = await fsp.readdir(scratchDir).catch(() => []);
  const removed: string[] = [];
  for (const name of entries.filter((entry) => entry.startsWith(SCRATCH_PREFIX))) {
    const directory = path.join(scratchDir, name);
    const stats = await fsp.stat(directory).catch(() => undefined);
    if (!stats || options.now - stats.mtimeMs < options.olderThanMs) continue;
    if (!options.dryRun) await fsp.rm(directory, { recursive: true, force: true });
    removed.push(directory);
  }
  return removed;
}
