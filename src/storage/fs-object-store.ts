/**
 * The filesystem as an ObjectStore: a key is a path under `root`. The writes
 * are today's FileStorage ones (temp file `.tmp-…` in the target's directory,
 * fsync, rename, directory fsync; copy = hard link, else a copy, both
 * atomic), so the two can share a directory while callers move over.
 *
 * What a directory cannot store: Content-Type is derived from the key's
 * extension on open (put's contentType is not kept), Cache-Control is not
 * kept at all. The ETag is `"<size hex>-<mtime ns hex>"`: stable while the
 * file is, changed by every rename into place.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { makeDirectory } from './make-directory.js';
import {
  ObjectNotFoundError,
  StorageConfigError,
  assertKey,
  assertPrefix,
  clipRange,
  contentTypeFor,
  type ByteRange,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type OpenedObject,
  type PutOptions,
} from './object-store.js';
import { FileStorage, TEMP_PREFIX } from './storage.js';

/** errno codes meaning "there is no such file" (ENOTDIR: a file stands where a directory of the key would). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

function isMissing(error: unknown): boolean {
  return MISSING.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  readonly description: string;
  private readonly files: FileStorage;

  constructor(root: string) {
    this.files = new FileStorage(root);
    this.root = this.files.root;
    this.description = this.root;
  }

  private pathOf(key: string): string {
    assertKey(key);
    return this.files.absolutePath(key);
  }

  async put(key: string, source: Readable | Buffer, options: PutOptions = {}): Promise<number> {
    this.pathOf(key);
    const transforms = options.transforms ?? [];
    // FileStorage writes a Buffer directly; through transforms it must flow as a stream.
    const input = Buffer.isBuffer(source) && transforms.length > 0 ? Readable.from([source]) : source;
    return this.files.writeAtomic(key, input, transforms);
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
      return await this.files.linkAtomic(from, to);
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
    let directory: fs.Dir;
    try {
      directory = await fsp.opendir(directoryKey === '' ? this.root : path.join(this.root, directoryKey));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for await (const entry of directory) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = directoryKey === '' ? entry.name : `${directoryKey}/${entry.name}`;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const listed = await this.listed(key);
        if (listed) yield listed;
      }
    }
  }

  private async listed(key: string): Promise<ListedObject | undefined> {
    try {
      const stats = await fsp.stat(path.join(this.root, key));
      return { key, size: stats.size, lastModified: stats.mtime };
    } catch (error) {
      if (isMissing(error)) return undefined; // deleted while we walked
      throw error;
    }
  }

  async withLocalFile<T>(key: string, fn: (localPath: string) => Promise<T>): Promise<T> {
    const file = this.pathOf(key);
    if ((await this.stat(key)) === undefined) throw new ObjectNotFoundError(key);
    return fn(file);
  }

  async check(): Promise<void> {
    try {
      await makeDirectory(this.root);
      await fsp.access(this.root, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR' || code === 'EROFS') {
        throw new StorageConfigError(`storage directory ${this.root} is not usable (${code})`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

function etagOf(stats: fs.BigIntStats): string {
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}
