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
import { makeDirectory } from './make-directory.js';
import { createS3Client, type S3ObjectStoreOptions } from './s3-client.js';
import {
  InvalidRangeError,
  ObjectNotFoundError,
  assertKey,
  assertPrefix,
  assertRangeShape,
  contentTypeFor,
  type ByteRange,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type OpenedObject,
  type PutOptions,
} from './object-store.js';
import { isInvalidRange, isMissingKey, toStorageError } from './s3-errors.js';
import { TEMP_PREFIX } from './storage.js';

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
  destroy(): void {
    this.client.destroy();
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
    const Key = this.objectKey(key);
    const transforms = options.transforms ?? [];
    const send = async (Body: Buffer | Readable, ContentLength: number): Promise<void> => {
      const command = new PutObjectCommand({
        Bucket: this.bucket,
        Key,
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
    };
    if (Buffer.isBuffer(source) && transforms.length === 0) {
      await send(source, source.length);
      return source.length;
    }
    return this.inScratch(async (directory) => {
      const file = path.join(directory, 'put');
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
      await pipeline([input, ...transforms, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 })]);
      const { size } = await fsp.stat(file);
      await send(size <= RETRYABLE_BODY_BYTES ? await fsp.readFile(file) : fs.createReadStream(file), size);
      return size;
    });
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
    const out = await this.get(key);
    if (!out) throw new ObjectNotFoundError(key);
    const body = (out.Body as Readable | undefined) ?? Readable.from([]);
    return this.inScratch(async (directory) => {
      const file = path.join(directory, path.posix.basename(key));
      try {
        await pipeline(body, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
      } catch (error) {
        throw this.fail(error, 'GetObject', key);
      }
      return fn(file);
    });
  }

  async check(): Promise<void> {
    await this.listPage('', 1, undefined);
  }

  /** Runs `fn` in a fresh scratch directory, removed (with whatever it holds) when `fn` settles. */
  private async inScratch<T>(fn: (directory: string) => Promise<T>): Promise<T> {
    await makeDirectory(this.scratchDir);
    const directory = await fsp.mkdtemp(path.join(this.scratchDir, `${TEMP_PREFIX}s3-`));
    try {
      return await fn(directory);
    } finally {
      await fsp.rm(directory, { recursive: true, force: true });
    }
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
