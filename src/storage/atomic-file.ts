/**
 * Atomic files: bytes go to a temp file in the target's directory, are
 * fsynced, and are renamed into place (then the directory is fsynced), so a
 * reader sees the old file or the whole new one, never a part, even after
 * kill -9 or a full disk. The filesystem ObjectStore is built on these.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, type Transform } from 'node:stream';
import { makeDirectory } from './make-directory.js';

/** Temp files start with this; cleanup removes stale ones, readers never serve them, keys may not name them. */
export const TEMP_PREFIX = '.tmp-';

/** A fresh temp name beside `target`. */
export function tempPathFor(target: string): string {
  return path.join(
    path.dirname(target),
    `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
  );
}

/** Streams `source` (through `transforms`) to `target` atomically. Returns the bytes written. */
export async function writeFileAtomic(
  target: string,
  source: Readable | Buffer,
  transforms: Transform[] = [],
): Promise<number> {
  const directory = path.dirname(target);
  await makeDirectory(directory);
  const temp = tempPathFor(target);
  try {
    // flush: fsync before close, so the rename below never publishes unwritten blocks.
    if (Buffer.isBuffer(source) && transforms.length === 0) {
      await fsp.writeFile(temp, source, { flag: 'wx', mode: 0o644, flush: true });
    } else {
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
      await pipeline([
        input,
        ...transforms,
        fs.createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true }),
      ]);
    }
    const { size } = await fsp.stat(temp);
    await fsp.rename(temp, target);
    await syncDirectory(directory);
    return size;
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Gives `source`'s bytes a second name `target`, atomically: a hard link (the
 * bytes survive the deletion of either name), or a copy where links are
 * impossible (another file system, no link permission, too many links).
 */
export async function linkFileAtomic(source: string, target: string): Promise<void> {
  await makeDirectory(path.dirname(target));
  const temp = tempPathFor(target);
  try {
    await fsp.link(source, temp);
  } catch (error) {
    if (!['EXDEV', 'EPERM', 'EMLINK'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await writeFileAtomic(target, fs.createReadStream(source));
    return;
  }
  try {
    // A second name is a new object, as S3's CopyObject makes one: written now.
    // Cleanup judges orphans by this time; an old one would make a fresh copy
    // look abandoned before its row is written. The shared inode moves the
    // first name's time too, which only makes it look younger.
    const now = new Date();
    await fsp.utimes(temp, now, now);
    await fsp.rename(temp, target);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

/** The rename is durable only once the directory entry is on disk too. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await fsp.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
