/**
 * Can files be stored in a directory (STORAGE_DIR, the scratch directory)?
 * Creates it, then writes, fsyncs, renames and removes a probe file: the
 * same operations an atomic write makes. Used at start-up (an unusable
 * directory stops the process before it claims anything) and by /readyz.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
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

/** The errno says the directory itself is wrong or not ours to write, not that the disk is busy or full. */
export function isPermanentStorageErrno(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_CODES.has(code);
}

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
