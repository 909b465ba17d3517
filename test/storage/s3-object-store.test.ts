/**
 * The S3 backend against a real S3 API (moto_server on 127.0.0.1), through
 * the same conformance suite as the filesystem, plus how its failures classify.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/errors.js';
import { StorageConfigError } from '../../src/storage/object-store.js';
import {
  RETRYABLE_BODY_BYTES,
  S3ObjectStore,
  type S3ObjectStoreOptions,
} from '../../src/storage/s3-object-store.js';
import { motoCommand, startMotoServer, useMotoServer } from '../helpers/moto-server.js';
import { defineObjectStoreConformance, type ConformanceBackend } from './object-store-conformance.js';

const moto = useMotoServer();

const BUCKET = 'media-conformance';
let scratch: string;
let backend: ConformanceBackend;
const stores: S3ObjectStore[] = [];

function s3Store(options: Partial<S3ObjectStoreOptions> & { endpoint: string }): S3ObjectStore {
  const store = new S3ObjectStore({
    bucket: BUCKET,
    prefix: 'media/',
    forcePathStyle: true,
    scratchDir: scratch,
    ...options,
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  if (!moto.available) return;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 's3-object-store-scratch-'));
  const store = s3Store({ endpoint: moto.server.endpoint });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  backend = {
    store,
    smallPages: s3Store({ endpoint: moto.server.endpoint, listPageSize: 7 }),
    keepsMetadata: true,
    scratchIsRemoved: true,
  };
});

afterAll(async () => {
  for (const store of stores) await store.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!moto.available)('S3ObjectStore on moto_server', () => {
  defineObjectStoreConformance('S3 (moto)', () => backend);

  it('stores keys under the STORAGE_URL prefix and leaves its scratch directory empty', async () => {
    const store = s3Store({ endpoint: moto.server.endpoint, prefix: '' });
    await backend.store.put('prefixed/1.jpg', Buffer.from('x'));
    expect(await store.stat('media/prefixed/1.jpg')).toMatchObject({ size: 1 });
    expect(await backend.store.stat('media/prefixed/1.jpg')).toBeUndefined();
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('keeps a scratch file only while it is held, and removeLeftovers sweeps what a killed process left', async () => {
    const { store } = backend;
    const { local } = await store.putKeepingLocal('held/1.jpg', Buffer.from('spooled bytes'));
    expect(fs.readdirSync(scratch)).toHaveLength(1);
    const download = await store.localFile('held/1.jpg');
    expect(fs.readdirSync(scratch)).toHaveLength(2);
    // A process killed while holding them: its directories stay behind until swept.
    const past = new Date(Date.now() - 7_200_000);
    fs.utimesSync(path.dirname(local.path), past, past);
    const options = { olderThanMs: 3_600_000, now: Date.now() };
    expect(await store.removeLeftovers({ ...options, dryRun: true })).toEqual([path.dirname(local.path)]);
    expect(await store.removeLeftovers({ ...options, dryRun: false })).toEqual([path.dirname(local.path)]);
    expect(fs.existsSync(local.path)).toBe(false);
    expect(fs.readFileSync(download.path, 'utf8')).toBe('spooled bytes');
    await download.release();
    await local.release();
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('reports a missing bucket as a StorageConfigError naming STORAGE_URL (class AUTH), in every operation', async () => {
    const store = s3Store({ endpoint: moto.server.endpoint, bucket: 'no-such-bucket' });
    const attempts: Array<() => Promise<unknown>> = [
      () => store.check(),
      () => store.put('a.jpg', Buffer.from('x')),
      () => store.open('a.jpg'),
      () => store.copy('a.jpg', 'b.jpg'),
      async () => {
        for await (const _object of store.list('')) break;
      },
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toMatch(/STORAGE_URL names bucket "no-such-bucket".*NoSuchBucket/);
      expect(classify(error).errorClass).toBe('AUTH');
    }
  });

  it('classifies an S3 server that went away as TRANSIENT', async () => {
    const doomed = await startMotoServer(motoCommand()!);
    const store = s3Store({ endpoint: doomed.endpoint, maxAttempts: 1, connectTimeoutMs: 1_000 });
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await store.put('before.jpg', Buffer.from('x'));
    await doomed.stop();
    const attempts: Array<() => Promise<unknown>> = [
      () => store.put('after.jpg', Buffer.from('x')),
      () => store.open('before.jpg'),
      () => store.stat('before.jpg'),
      () => store.check(),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(Error);
      expect(classify(error).errorClass).toBe('TRANSIENT');
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
    }
  });

  it('streams a body too large to keep in memory for retries (one PutObject from the spooled file)', async () => {
    const { store } = backend;
    const chunk = randomBytes(1024 * 1024);
    const count = Math.ceil(RETRYABLE_BODY_BYTES / chunk.length) + 1;
    const hash = createHash('md5');
    for (let index = 0; index < count; index += 1) hash.update(chunk);
    const source = Readable.from(Array.from({ length: count }, () => chunk));
    expect(await store.put('large/original.jpg', source)).toBe(count * chunk.length);
    const stat = await store.stat('large/original.jpg');
    expect(stat?.size).toBe(count * chunk.length);
    // A single-part upload's ETag is the MD5 of the bytes.
    expect(stat?.etag).toBe(`"${hash.digest('hex')}"`);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('reports credentials the server refuses as a StorageConfigError (class AUTH)', async () => {
    const strict = await startMotoServer(motoCommand()!, { INITIAL_NO_AUTH_ACTION_COUNT: '0' });
    try {
      const store = s3Store({ endpoint: strict.endpoint, maxAttempts: 1 });
      for (const attempt of [() => store.check(), () => store.put('a.jpg', Buffer.from('x'))]) {
        const error = await attempt().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).toBeInstanceOf(StorageConfigError);
        expect((error as Error).message).toMatch(/refused .*HTTP 403.*AWS_ACCESS_KEY_ID/);
        expect(classify(error).errorClass).toBe('AUTH');
      }
    } finally {
      await strict.stop();
    }
  });
});
