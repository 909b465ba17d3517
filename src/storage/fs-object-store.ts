/**
 * The filesystem as an ObjectStore: a key is a path under `root`. Writes are
 * atomic-file.ts's (temp file `.tmp-…` in the target's directory, fsync,
 * rename, directory fsync); copy is a hard link, else a copy, both atomic.
 *
 * What a directory cannot store: Content-Type is derived from the key's
 * extension on open (put's contentType is not kept), Cache-Control is not
 * kept at all. The ETag is `"<size hex>-<mtime ns hex>"`: stable while the
 * file is, changed by every rename into place.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TEMP_PREFIX, linkFileAtomic, writeFileAtomic } from './atomic-file.js';
import { isPermanentStorageErrno, probeStorage } from './probe-storage.js';
import {
  ObjectNotFoundError,
  StorageConfigError,
  assertKey,
  assertPrefix,
  clipRange,
  contentTypeFor,
  type ByteRange,
  type ListedObject,
  type LocalFile,
  type ObjectInfo,
  type ObjectStore,
  type OpenedObject,
  type PutOptions,
} from './object-store.js';

/** errno codes meaning "there is no such file" (ENOTDIR: a file stands where a directory of the key would). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

function isMissing(error: unknown): boolean {
  return MISSING.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = this.root;
  }

  /** The file of `key`; assertKey has already refused every key that could leave the root. */
  pathOf(key: string): string {
    assertKey(key);
    return path.join(this.root, key);
  }

  async put(key: string, source: Readable | Buffer, options: PutOptions = {}): Promise<number> {
    return writeFileAtomic(this.pathOf(key), source, options.transforms ?? []);
  }

  async putKeepingLocal(
    key: string,
    source: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<{ bytes: number; local: LocalFile }> {
    const bytes = await this.put(key, source, options);
    return { bytes, local: ownFile(this.pathOf(key)) };
  }

  async open(key: string, options: { range?: ByteRange } = {}): Promise<OpenedObject | undefined> {
    const file = this.pathOf(key);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return undefined;
      }
      const size = Number(stats.size);
      const range = options.range ? clipRange(options.range, size) : undefined;
      // Read from the open handle: a rename over the key meanwhile cannot mix two versions.
      const stream = handle.createReadStream({ start: range?.start, end: range?.end, autoClose: true });
      return {
        stream,
        size,
        etag: etagOf(stats),
        lastModified: new Date(Number(stats.mtimeMs)),
        contentType: contentTypeFor(key),
        cacheControl: undefined,
        range,
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stats = await fsp.stat(this.pathOf(key), { bigint: true });
      if (!stats.isFile()) return undefined;
      return { size: Number(stats.size), etag: etagOf(stats), lastModified: new Date(Number(stats.mtimeMs)) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async copy(from: string, to: string): Promise<boolean> {
    this.pathOf(from);
    this.pathOf(to);
    if (from === to) return (await this.stat(from)) !== undefined;
    if ((await this.stat(from)) === undefined) return false;
    try {
      await linkFileAtomic(this.pathOf(from), this.pathOf(to));
      return true;
    } catch (error) {
      // The source went away between the check and the link.
      if (isMissing(error) && (await this.stat(from)) === undefined) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fsp.unlink(file);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash === -1 ? '' : prefix.slice(0, slash), prefix);
  }

  /** Depth-first over `directoryKey`, reading each directory incrementally (no full listing in memory). */
  private async *walk(directoryKey: string, prefix: string): AsyncGenerator<ListedObject> {
    for await (const { key, entry } of this.entries(directoryKey)) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const listed = await this.listed(key);
        if (listed) yield listed;
      }
    }
  }

  /** The entries of one directory, with their keys; none when it is missing. */
  private async *entries(directoryKey: string): AsyncGenerator<{ key: string; entry: fs.Dirent }> {
    let directory: fs.Dir;
    try {
      directory = await fsp.opendir(directoryKey === '' ? this.root : path.join(this.root, directoryKey));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for await (const entry of directory) {
      yield { key: directoryKey === '' ? entry.name : `${directoryKey}/${entry.name}`, entry };
    }
  }

  private async listed(key: string): Promise<ListedObject | undefined> {
    try {
      // The same clock reading as stat() and open(), to the millisecond.
      const stats = await fsp.stat(path.join(this.root, key), { bigint: true });
      return { key, size: Number(stats.size), lastModified: new Date(Number(stats.mtimeMs)) };
    } catch (error) {
      if (isMissing(error)) return undefined; // deleted while we walked
      throw error;
    }
  }

  async withLocalFile<T>(key: string, fn: (localPath: string) => Promise<T>): Promise<T> {
    const local = await this.localFile(key);
    return fn(local.path);
  }

  /** The store's own file: nothing to download, nothing to remove. */
  async localFile(key: string): Promise<LocalFile> {
    const file = this.pathOf(key);
    if ((await this.stat(key)) === undefined) throw new ObjectNotFoundError(key);
    return ownFile(file);
  }

  /** Stale `.tmp-…` files anywhere under the root, as root-relative paths. */
  async removeLeftovers(options: { olderThanMs: number; now: number; dryRun: boolean }): Promise<string[]> {
    const removed: string[] = [];
    for await (const temp of this.tempFiles('')) {
      const stats = await fsp.stat(path.join(this.root, temp)).catch(() => undefined);
      if (!stats || options.now - stats.mtimeMs < options.olderThanMs) continue;
      if (!options.dryRun) await fsp.rm(path.join(this.root, temp), { force: true });
      removed.push(temp);
    }
    return removed;
  }

  private async *tempFiles(directoryKey: string): AsyncGenerator<string> {
    for await (const { key, entry } of this.entries(directoryKey)) {
      if (entry.name.startsWith(TEMP_PREFIX)) yield key;
      else if (entry.isDirectory()) yield* this.tempFiles(key);
    }
  }

  async close(): Promise<void> {}

  /** Writes, fsyncs, renames and removes a probe file: what every put does. */
  async check(): Promise<void> {
    try {
      await probeStorage(this.root);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message = `STORAGE_DIR ${this.root} cannot be used: ${(error as Error).message}`;
      if (isPermanentStorageErrno(code)) throw new StorageConfigError(message, { cause: error });
      throw Object.assign(new Error(message, { cause: error }), { code });
    }
  }
}

function ownFile(file: string): LocalFile {
  return { path: file, release: () => Promise.resolve() };
}

function etagOf(stats: fs.BigIntStats): string {
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}
