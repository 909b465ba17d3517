/**
 * Where media bytes live, shaped like an object store so that the filesystem
 * (fs-object-store.ts) and any S3-compatible bucket (s3-object-store.ts) are
 * interchangeable. Keys are relative, '/'-separated ("bulk/2026-12-01/5.jpg",
 * "library/user_7/…"); a key that could escape (absolute, '..', '.', empty
 * segments, backslashes) or that names a temp file is refused before any I/O.
 *
 * Guarantees every backend keeps (test/storage/object-store-conformance.ts):
 * - put is atomic: a reader sees the old object or the whole new one, never a
 *   part; a put whose source fails leaves nothing visible.
 * - open/stat of a missing key answer undefined; copy of a missing source
 *   answers false; delete of a missing key is not an error.
 * - list pages under the hood and yields every object under the prefix
 *   once, temp files never; the order is unspecified.
 * - Content-Type: what put was given, else derived from the key's extension.
 *   The filesystem cannot store it (nor Cache-Control), so it always derives
 *   Content-Type from the extension and reports no Cache-Control.
 */
import path from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { AuthError } from '../errors.js';
import { TEMP_PREFIX } from './atomic-file.js';

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
  /** Applied to the bytes in order before they are stored (a size limiter, a hasher …); an error aborts the put. */
  transforms?: Transform[];
}

/** Inclusive byte offsets, as in an HTTP Range header; `end` past the last byte is clipped. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  /** Bytes of the whole object. */
  size: number;
  /** Changes whenever the bytes may have; quoted, as S3 and HTTP give it. */
  etag: string;
  lastModified: Date;
}

export interface OpenedObject extends ObjectInfo {
  /** The whole object, or only `range` when one was asked for. */
  stream: Readable;
  contentType: string;
  cacheControl: string | undefined;
  /** The bytes `stream` yields (clipped to the object); undefined when no range was asked for. */
  range: ByteRange | undefined;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** A local file holding an object's bytes, for as long as the holder needs it (sharp wants paths). */
export interface LocalFile {
  readonly path: string;
  /** Done with it: a downloaded or spooled copy is removed; the filesystem's own file is left alone. */
  readonly release: () => Promise<void>;
}

export interface ObjectStore {
  /** Human-readable location for logs and errors (a directory, or s3://bucket/prefix). */
  readonly description: string;
  /** Stores `source` (through `options.transforms`) under `key`, atomically. Returns bytes stored. */
  put(key: string, source: Readable | Buffer, options?: PutOptions): Promise<number>;
  /** The object's bytes and metadata; undefined when there is none. Throws InvalidRangeError for a range outside it. */
  open(key: string, options?: { range?: ByteRange }): Promise<OpenedObject | undefined>;
  stat(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Gives `from`'s bytes a second key `to`, atomically and without moving
   * bytes through this process where the backend allows (hard link, server-side
   * copy). The copy outlives the deletion of `from`. False when `from` is missing.
   */
  copy(from: string, to: string): Promise<boolean>;
  /** Removes the object; a missing one is fine. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` ('' for all; 'bulk/' for a "directory"). */
  list(prefix: string): AsyncIterable<ListedObject>;
  /**
   * Runs `fn` with a local file holding the object (sharp wants paths). The
   * filesystem hands over its own file (do not write to it); other backends
   * download to a scratch directory removed when `fn` settles. Throws
   * ObjectNotFoundError when the key is missing.
   */
  withLocalFile<T>(key: string, fn: (localPath: string) => Promise<T>): Promise<T>;
  /**
   * withLocalFile for a holder that outlives one call (a claim's steps share
   * the original): the caller must release() it. Throws ObjectNotFoundError.
   */
  localFile(key: string): Promise<LocalFile>;
  /**
   * put, keeping a local file of what was stored, so the bytes just uploaded
   * need no second download (retrieve hands the original to sharp). The
   * caller must release() it.
   */
  putKeepingLocal(
    key: string,
    source: Readable | Buffer,
    options?: PutOptions,
  ): Promise<{ bytes: number; local: LocalFile }>;
  /**
   * Removes what interrupted writes left behind (kill -9 mid-put): temp files
   * on disk, scratch directories of a bucket's spools and downloads, older
   * than `olderThanMs` (younger ones may be in use). Returns what it removed
   * (or, with dryRun, would remove): keys' directories for temp files, local
   * paths for scratch.
   */
  removeLeftovers(options: { olderThanMs: number; now: number; dryRun: boolean }): Promise<string[]>;
  /** Lets go of connections (a bucket's kept-alive sockets); nothing on disk. */
  close(): Promise<void>;
  /**
   * Throws (a StorageConfigError, an AuthError, a TransientError) unless the
   * store can be written and read now: the filesystem writes, fsyncs and
   * renames a probe file; a bucket is listed.
   */
  check(): Promise<void>;
}

/** The key asked for does not exist (withLocalFile: the caller needed it). */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no stored object ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** A range that selects no byte of the object (HTTP 416). */
export class InvalidRangeError extends Error {
  constructor(
    readonly range: ByteRange,
    readonly size: number | undefined,
  ) {
    super(`range ${range.start}-${range.end} is outside the object (${size ?? 'unknown'} bytes)`);
    this.name = 'InvalidRangeError';
  }
}

/**
 * The storage settings are wrong (a bucket that does not exist, credentials
 * refused or missing): nothing will work until an operator fixes them. Class
 * AUTH, so an item is given back without using an attempt; the message names
 * the setting. Start-up turns it into exit 2.
 */
export class StorageConfigError extends AuthError {}

const FORBIDDEN_SEGMENTS = new Set(['', '.', '..']);

/** Throws unless `key` is a relative key that stays inside the store (see the file comment). */
export function assertKey(key: string): void {
  const problem = keyProblem(key, false);
  if (problem) throw new Error(`storage key ${JSON.stringify(key)} ${problem}`);
}

/** Like assertKey, but '' and a trailing '/' are allowed: "everything", "everything under bulk/". */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, true);
  if (problem) throw new Error(`storage prefix ${JSON.stringify(prefix)} ${problem}`);
}

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (typeof key !== 'string' || key === '') return 'is empty';
  if (key.startsWith('/')) return 'is absolute';
  if (key.includes('\\') || key.includes('\0')) return 'contains a backslash or NUL';
  const segments = key.split('/');
  if (segments.some((segment) => FORBIDDEN_SEGMENTS.has(segment))) {
    return "has an empty, '.' or '..' segment";
  }
  const last = segments.at(-1) ?? '';
  if (!isPrefix && last.startsWith(TEMP_PREFIX)) return `names a temp file (${TEMP_PREFIX}…)`;
  return undefined;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.avif': 'image/avif',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type a key's extension implies; application/octet-stream when it implies none. */
export function contentTypeFor(key: string): string {
  return CONTENT_TYPES[path.posix.extname(key).toLowerCase()] ?? 'application/octet-stream';
}

/** Throws InvalidRangeError unless the range selects at least one byte of `size`; returns it clipped. */
export function clipRange(range: ByteRange, size: number): ByteRange {
  assertRangeShape(range);
  if (range.start >= size) throw new InvalidRangeError(range, size);
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

/** Throws InvalidRangeError for a range that selects nothing whatever the size (negative, reversed, fractional). */
export function assertRangeShape(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new InvalidRangeError(range, undefined);
  }
}

/** Runs `fn` with a local file of `key` from `store.localFile`, released however `fn` ends. */
export async function usingLocalFile<T>(
  store: Pick<ObjectStore, 'localFile'>,
  key: string,
  fn: (localPath: string) => Promise<T>,
): Promise<T> {
  const local = await store.localFile(key);
  try {
    return await fn(local.path);
  } finally {
    await local.release();
  }
}

/** Objects and bytes under `prefix` (stats, the bucket-size report). */
export async function totalSize(
  store: Pick<ObjectStore, 'list'>,
  prefix: string,
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const object of store.list(prefix)) {
    objects += 1;
    bytes += object.size;
  }
  return { objects, bytes };
}
