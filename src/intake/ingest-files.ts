/** `media-worker ingest`: registers local files (or every file under a directory) as pending uploads. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Db } from '../db/connect.js';
import { insertMedia } from '../db/insert-media.js';
import { dataTypeOf, type Role } from '../media-roles.js';

export interface IngestOptions {
  userId: number;
  role: Role;
  isTestData: boolean;
  expiresAt?: number | null;
}

/** Expands directories (recursively, skipping hidden entries) into a sorted list of regular files. */
export async function findFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const given of paths) {
    const absolute = path.resolve(given);
    const stat = await fsp.stat(absolute).catch(() => undefined);
    if (!stat) throw new UsageError(`no such file or directory: ${given}`);
    if (stat.isFile()) files.push(absolute);
    else if (stat.isDirectory()) files.push(...(await filesUnder(absolute)));
    else throw new UsageError(`not a regular file or directory: ${given}`);
  }
  return files;
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await fsp.readdir(directory, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

export async function ingestFiles(
  db: Db,
  files: readonly string[],
  options: IngestOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<number[]> {
  const ids: number[] = [];
  for (const file of files) {
    ids.push(
      await insertMedia(db, {
        source: 'local',
        sourcePath: file,
        userId: options.userId,
        role: options.role,
        dataType: dataTypeOf(options.role),
        originalName: path.basename(file),
        isTestData: options.isTestData,
        expiresAt: options.expiresAt ?? null,
      }),
    );
    onProgress?.(ids.length, files.length);
  }
  return ids;
}
