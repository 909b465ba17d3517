/**
 * Can files be stored under STORAGE_DIR? Creates the directory, then writes,
 * fsyncs, renames and removes a probe file: the same operations an atomic
 * store makes. Used at start-up (an unusable STORAGE_DIR stops the process
 * before it claims anything) and by /readyz.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { makeDirectory } from './make-directory.js';

/** Errors that no amount of waiting fixes: the path itself is wrong, or not ours to write. */
const PERMANENT_CODES = new Set([
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
  'EEXIST',
  'EROFS',
  'ELOOP',
  'ENAMETOOLONG',
  'EINVAL',
]);

/** STORAGE_DIR cannot be used as configured: exit 2 with one line naming it and the errno. */
export class StorageConfigError extends UsageError {}

export async function probeStorage(root: string): Promise<void> {
  const directory = path.resolve(root);
  await makeDirectory(directory);
  const token = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = path.join(directory, `.tmp-probe-${token}`);
  const probe = path.join(directory, `.probe-${token}`);
  try {
    const handle = await fsp.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile('ok');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, probe);
  } finally {
    await fsp.rm(temp, { force: true });
    await fsp.rm(probe, { force: true });
  }
}

/** The start-up check: a one-line StorageConfigError for a wrong path, the plain error for the rest (ENOSPC, EIO). */
export async function checkStorageAtStart(root: string): Promise<void> {
  try {
    await probeStorage(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = `STORAGE_DIR ${path.resolve(root)} cannot be used: ${(error as Error).message}`;
    if (code !== undefined && PERMANENT_CODES.has(code)) throw new StorageConfigError(message);
    throw new Error(message, { cause: error });
  }
}
