/**
 * An S3-compatible bucket as an ObjectStore (AWS S3, GCS's XML API, R2,
 * MinIO, Garage, Ceph RGW, moto). A key is stored as `<prefix><key>`.
 * Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID …, a
 * shared profile, instance metadata). Checksums are only computed and
 * validated where an operation requires them: several S3-compatible servers
 * refuse the newer default trailing checksums.
 *
 * put: one PutObject, which S3 makes visible whole or not at all. A stream
 * is first spooled (through the transforms) to a scratch file, so its length
 * is known, a failing source or transform (the size limit) never reaches the
 * bucket, and memory stays bounded; objects up to RETRYABLE_BODY_BYTES are
 * then sent from memory, so the SDK may retry them (it never retries a
 * streamed body). No multipart: originals are at most MAX_UPLOAD_BYTES (MiB,
 * not GiB; one PutObject takes 5 GiB) and a single PUT leaves no unfinished
 * uploads to abort or expire after a kill -9.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { createScratchDirectory, removeStaleScratch } from './scratch-directory.js';
import { createS3Client, type S3ObjectStoreOptions } from './s3-client.js';
import {
  InvalidRangeError,
  ObjectNotFoundError,
  assertKey,
  assertPrefix,
  assertRangeShape,
  contentTypeFor,
  usingLocalFile,
  type ByteRange,
  type ListedObject,
  type LocalFile,
  type ObjectInfo,
  type ObjectStore,
  type OpenedObject,
  type PutOptions,
} from './object-store.js';
import { isInvalidRange, isMissingKey, toStorageError } from './s3-errors.js';

export type { S3ObjectStoreOptions };

/** Spooled objects up to this size are sent from memory (retryable by the SDK); larger ones are streamed. */
export const RETRYABLE_BODY_BYTES = 32 * 1024 * 1024;

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string | undefined;
  private readonly scratchDir: string;
  private readonly listPageSize: number;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    if (this.prefix !== '') assertPrefix(this.prefix);
    this.endpoint = options.endpoint;
    this.scratchDir = path.resolve(options.scratchDir ?? os.tmpdir());
    this.listPageSize = options.listPageSize ?? 1000;
    this.description = `s3://${this.bucket}/${this.prefix}`;
    this.client = createS3Client(options);
  }

  /** Closes the client's kept-alive connections. */
  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  private objectKey(key: string): string {
    assertKey(key);
    return this.prefix + key;
  }

  private fail(error: unknown, operation: string, key?: string): Error {
    return toStorageError(error, {
      operation,
      key,
      bucket: this.bucket,
      description: this.description,
      endpoint: this.endpoint,
    });
  }

  async put(key: string, source: Readable | Buffer, options: PutOptions = {}): Promise<number> {
    if (Buffer.isBuffer(source) && (options.transforms ?? []).length === 0) {
      await this.send(key, source, source.length, options);
      return source.length;
    }
    const { bytes, local } = await this.spoolAndSend(key, source, options);
    await local.release();
    return bytes;
  }

  /** put, keeping the spooled file (the caller's to release): retrieve needs no second download. */
  async putKeepingLocal(
    key: string,
    source: Readable | Buffer,
    options: PutOptions = {},
  ): Promise<{ bytes: number; local: LocalFile }> {
    return this.spoolAndSend(key, source, options);
  }

  /**
   * Spools `source` through the transforms to a scratch file (its length known,
   * a failing source never reaching the bucket), then sends it in one PutObject.
   */
  private async spoolAndSend(
    key: string,
    source: Readable | Buffer,
    options: PutOptions,
  ): Promise<{ bytes: number; local: LocalFile }> {
    this.objectKey(key);
    const scratch = await this.scratchDirectory();
    try {
      const file = path.join(scratch.path, path.posix.basename(key));
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
      const transforms = options.transforms ?? [];
      await pipeline([input, ...transforms, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 })]);
      const { size } = await fsp.stat(file);
      const body = size <= RETRYABLE_BODY_BYTES ? await fsp.readFile(file) : fs.createReadStream(file);
      // A failed send may leave a streamed body open: close it before its directory goes.
      await this.send(key, body, size, options).finally(() => Buffer.isBuffer(body) || body.destroy());
      return { bytes: size, local: { path: file, release: scratch.release } };
    } catch (error) {
      await scratch.release();
      throw error;
    }
  }

  private async send(key: string, Body: Buffer | Readable, ContentLength: number, options: PutOptions) {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body,
      ContentLength,
      ContentType: options.contentType ?? contentTypeFor(key),
      CacheControl: options.cacheControl,
    });
    try {
      await this.client.send(command);
    } catch (error) {
      throw this.fail(error, 'PutObject', key);
    }
  }

  private async get(key: string, range?: ByteRange): Promise<GetObjectCommandOutput | undefined> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Range: range ? `bytes=${range.start}-${range.end}` : undefined,
    });
    try {
      return await this.client.send(command);
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      if (range && isInvalidRange(error)) throw new InvalidRangeError(range, undefined);
      throw this.fail(error, 'GetObject', key);
    }
  }

  async open(key: string, options: { range?: ByteRange } = {}): Promise<OpenedObject | undefined> {
    if (options.range) assertRangeShape(options.range);
    const out = await this.get(key, options.range);
    if (!out) return undefined;
    const stream = (out.Body as Readable | undefined) ?? Readable.from([]);
    let size = out.ContentLength ?? 0;
    let range: ByteRange | undefined;
    if (options.range) {
      const served = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
      if (!served) {
        stream.destroy();
        throw this.fail(new Error(`no usable Content-Range (${out.ContentRange})`), 'GetObject', key);
      }
      range = { start: Number(served[1]), end: Number(served[2]) };
      size = Number(served[3]);
    }
    return {
      stream,
      size,
      etag: out.ETag ?? '""',
      lastModified: out.LastModified ?? new Date(0),
      contentType: out.ContentType ?? contentTypeFor(key),
      cacheControl: out.CacheControl,
      range,
    };
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const command = new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    try {
      const out = await this.client.send(command);
      return {
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? '""',
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isMissingKey(error)) return undefined;
      throw this.fail(error, 'HeadObject', key);
    }
  }

  async copy(from: string, to: string): Promise<boolean> {
    const source = this.objectKey(from);
    const Key = this.objectKey(to);
    // S3 refuses a copy onto itself that changes nothing.
    if (from === to) return (await this.stat(from)) !== undefined;
    const CopySource = `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key, CopySource }));
      return true;
    } catch (error) {
      if (isMissingKey(error)) return false;
      throw this.fail(error, 'CopyObject', `${from} → ${to}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (isMissingKey(error)) return;
      throw this.fail(error, 'DeleteObject', key);
    }
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    assertPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, this.listPageSize, token);
      for (const object of page.Contents ?? []) {
        const key = (object.Key ?? '').slice(this.prefix.length);
        // Folder markers ("a/") and keys this store would refuse are not objects of ours.
        if (key === '' || key.endsWith('/') || !isValidKey(key)) continue;
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private async listPage(prefix: string, maxKeys: number, token: string | undefined) {
    const command = new ListObjectsV2Command({
      Bucket: this.bucket,
      Prefix: this.prefix + prefix,
      MaxKeys: maxKeys,
      ContinuationToken: token,
    });
    try {
      return await this.client.send(command);
    } catch (error) {
      throw this.fail(error, 'ListObjectsV2', prefix === '' ? undefined : prefix);
    }
  }

  async withLocalFile<T>(key: string, fn: (localPath: string) => Promise<T>): Promise<T> {
    return usingLocalFile(this, key, fn);
  }

  /** Downloads the object to a scratch file, removed on release(). */
  async localFile(key: string): Promise<LocalFile> {
    const out = await this.get(key);
    if (!out) throw new ObjectNotFoundError(key);
    const body = (out.Body as Readable | undefined) ?? Readable.from([]);
    const scratch = await this.scratchDirectory().catch((error: unknown) => {
      body.destroy();
      throw error;
    });
    const file = path.join(scratch.path, path.posix.basename(key));
    try {
      await pipeline(body, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      await scratch.release();
      // A failing local write (ENOSPC) is the disk's errno; a failing body is the store's.
      throw (error as NodeJS.ErrnoException).syscall ? error : this.fail(error, 'GetObject', key);
    }
    return { path: file, release: scratch.release };
  }

  async check(): Promise<void> {
    await this.listPage('', 1, undefined);
  }

  /** Scratch directories a killed process left (a spool or a download each), as local paths. */
  removeLeftovers(options: { olderThanMs: number; now: number; dryRun: boolean }): Promise<string[]> {
    return removeStaleScratch(this.scratchDir, options);
  }

  private scratchDirectory(): Promise<LocalFile> {
    return createScratchDirectory(this.scratchDir);
  }
}

function isValidKey(key: string): boolean {
  try {
    assertKey(key);
    return true;
  } catch {
    return false;
  }
}
