/**
 * Where files live. Paths are relative to the storage root ("bulk/…",
 * "library/…"); writes are atomic (temp file in the same directory, fsync,
 * rename), so a reader never sees a half-written file, even after kill -9 or
 * a full disk.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import { makeDirectory } from './make-directory.js';

export interface Storage {
  readonly root: string;
  /** Absolute path of a stored file; refuses paths that would leave the root. */
  absolutePath(relativePath: string): string;
  /** Streams `source` (through `transforms`) to a temp file, then renames it into place. Returns bytes written. */
  writeAtomic(relativePath: string, source: Readable | Buffer, transforms?: Transform[]): Promise<number>;
  /**
   * Gives `from`'s bytes a second name `to`, atomically: a hard link (the
   * bytes survive the deletion of either name), or a copy where links are
   * impossible. False when `from` does not exist.
   */
  linkAtomic(from: string, to: string): Promise<boolean>;
  exists(relativePath: string): Promise<boolean>;
  remove(relativePath: string): Promise<void>;
}

/** Temp files start with this; cleanup removes stale ones, readers never serve them. */
export const TEMP_PREFIX = '.tmp-';

export class FileStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  absolutePath(relativePath: string): string {
    const absolute = path.resolve(this.root, relativePath);
    if (absolute !== this.root && !absolute.startsWith(this.root + path.sep)) {
      throw new Error(`storage path escapes the storage directory: ${relativePath}`);
    }
    return absolute;
  }

  async writeAtomic(
    relativePath: string,
    source: Readable | Buffer,
    transforms: Transform[] = [],
  ): Promise<number> {
    const target = this.absolutePath(relativePath);
    const directory = path.dirname(target);
    await makeDirectory(directory);
    const temp = path.join(
      directory,
      `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
    );
    try {
      // flush: fsync before close, so the rename below never publishes unwritten blocks.
      if (Buffer.isBuffer(source)) {
        await fsp.writeFile(temp, source, { flag: 'wx', mode: 0o644, flush: true });
      } else {
        await pipeline([
          source,
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

  async linkAtomic(from: string, to: string): Promise<boolean> {
    const source = this.absolutePath(from);
    const target = this.absolutePath(to);
    if (!(await this.exists(from))) return false;
    await makeDirectory(path.dirname(target));
    const temp = this.tempPathFor(target);
    try {
      await fsp.link(source, temp);
    } catch (error) {
      if (!['EXDEV', 'EPERM', 'EMLINK'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await this.writeAtomic(to, fs.createReadStream(source));
      return true;
    }
    await fsp.rename(temp, target);
    await syncDirectory(path.dirname(target));
    return true;
  }

  private tempPathFor(target: string): string {
    return path.join(
      path.dirname(target),
      `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.basename(target)}`,
    );
  }

  async exists(relativePath: string): Promise<boolean> {
    try {
      await fsp.access(this.absolutePath(relativePath), fs.constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  async remove(relativePath: string): Promise<void> {
    await fsp.rm(this.absolutePath(relativePath), { force: true });
  }
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
