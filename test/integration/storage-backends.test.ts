/**
 * The whole pipeline and /serve on each storage backend: a directory and an
 * S3 bucket (moto_server on 127.0.0.1). On the bucket: originals and
 * variants land there (with Content-Type and the immutable Cache-Control),
 * identical uploads reuse variants by server-side copy, nothing media is
 * written to a local disk but scratch (emptied) and the serve cache; /serve
 * answers the same on both, ranges, 304 and 416 included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer as collect } from 'node:stream/consumers';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { createServer } from '../../src/http/server.js';
import { testServerOptions } from '../helpers/server-storage.js';
import { createVariantSource } from '../../src/http/variant-source.js';
import { VARIANT_CACHE_CONTROL } from '../../src/images/presets.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { checkStorage, localDiskDir, objectStoreFor } from '../../src/storage/object-store-for.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { useMotoServer } from '../helpers/moto-server.js';
import { withPipeline } from '../helpers/pipeline.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const moto = useMotoServer();
const BUCKET = 'media-pipeline';

const backends = [
  { name: 'filesystem', s3: false },
  { name: 'S3 (moto)', s3: true },
];

describe.each(backends)('pipeline and /serve on $name', ({ s3 }) => {
  const skip = s3 && !moto.available;
  let t: TestDatabase;
  let dir: string;
  let config: Config;
  let store: ObjectStore;
  let server: FastifyInstance;
  let metrics: Metrics;
  let base: string;
  const id = { cat: 0, twin: 0 };

  beforeAll(async () => {
    if (skip) return;
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-backends-'));
    const bucket = `${BUCKET}-${Math.random().toString(36).slice(2, 8)}`;
    config = loadConfig({
      DATABASE_URL: t.url,
      SCRATCH_DIR: path.join(dir, 'scratch'),
      SERVE_CACHE_DIR: path.join(dir, 'serve-cache'),
      ...(s3
        ? { STORAGE_URL: `s3://${bucket}/media`, S3_ENDPOINT: moto.server.endpoint }
        : { STORAGE_DIR: path.join(dir, 'storage') }),
    });
    store = objectStoreFor(config);
    if (store instanceof S3ObjectStore) await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const cat = fixtures.SAMPLE('cat-chelsea.png');
    const ingest = (files: string[]) =>
      ingestFiles(t.db, files, { userId: 3, role: 'product', isTestData: false });
    id.cat = (await ingest([cat]))[0]!;
    // The same bytes again, under another name: reused, not rendered twice.
    id.twin = (await ingest([fixtures.writeFixture(dir, 'twin.png', fs.readFileSync(cat))]))[0]!;
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps, { concurrency: 1 }).run());
    metrics = new Metrics();
    const source = createVariantSource({
      store,
      remote: s3,
      cacheDir: config.serveCacheDir,
      cacheBytes: 8 * 1024 * 1024,
      log: silentLogger(),
      onCacheResult: metrics.onServeCache,
    });
    await source.start();
    server = createServer(
      testServerOptions(t.db, {
        openVariant: source.open,
        checkStorage: () => checkStorage(store, config),
        localDiskDir: localDiskDir(config),
        metrics,
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    if (skip) return;
    await server?.close();
    await store?.close();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)(
    'stores the original and every variant with its type and caching, and reuses a twin by copy',
    async () => {
      const rows = (await t.db('media_files').whereIn('id', [id.cat, id.twin]).orderBy('id')) as Array<{
        status: string;
        bulk_path: string;
        duplicate_of: number | null;
      }>;
      expect(rows.map((row) => row.status)).toEqual(['completed', 'completed']);
      const original = await store.open(rows[0]!.bulk_path);
      original?.stream.destroy();
      expect(original?.contentType).toBe('image/png');
      const variants = await listVariants(t.db, id.cat);
      const twins = await listVariants(t.db, id.twin);
      expect(twins.map((v) => [v.size, v.format, v.bytes])).toEqual(
        variants.map((v) => [v.size, v.format, v.bytes]),
      );
      for (const variant of [...variants, ...twins]) {
        const object = await store.open(variant.path);
        const bytes = await collect(object!.stream);
        expect(bytes.length).toBe(variant.bytes);
        if (s3) expect(object!.cacheControl).toBe(VARIANT_CACHE_CONTROL);
      }
      expect(rows[1]!.duplicate_of).toBe(id.cat);
    },
  );

  it.skipIf(skip || !s3)(
    'writes no media to a local disk: scratch is emptied, STORAGE_DIR never made',
    () => {
      expect(fs.readdirSync(config.scratchDir)).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'storage'))).toBe(false);
    },
  );

  it.skipIf(skip)('serves the stored bytes, then from the cache on a bucket; 304 on a match', async () => {
    const [grid] = (await listVariants(t.db, id.cat)).filter((v) => v.size === 'grid' && v.format === 'webp');
    const stored = await collect((await store.open(grid!.path))!.stream);
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}/serve/${id.cat}?size=grid&format=webp`);
      expect(response.status).toBe(200);
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(response.headers.get('cache-control')).toBe(VARIANT_CACHE_CONTROL);
      expect(Buffer.from(await response.arrayBuffer()).equals(stored)).toBe(true);
    }
    const again = await fetch(`${base}/serve/${id.cat}?size=grid&format=webp`, {
      headers: { 'If-None-Match': grid!.etag },
    });
    expect(again.status).toBe(304);
    const counted = await metrics.registry.getSingleMetricAsString('media_worker_serve_cache_total');
    if (s3) {
      expect(counted).toMatch(/result="miss"} 1\b/);
      expect(counted).toMatch(/result="hit"} [2-9]\b/);
    } else {
      expect(counted).not.toMatch(/result=/);
    }
  });

  it.skipIf(skip)(
    'answers byte ranges with 206, a suffix, an open end, If-Range, and 416 outside',
    async () => {
      const [grid] = (await listVariants(t.db, id.cat)).filter(
        (v) => v.size === 'grid' && v.format === 'webp',
      );
      const whole = await collect((await store.open(grid!.path))!.stream);
      const size = whole.length;
      const ask = (range: string, extra: Record<string, string> = {}) =>
        fetch(`${base}/serve/${id.cat}?size=grid&format=webp`, { headers: { Range: range, ...extra } });
      const cases: Array<[string, number, number]> = [
        ['bytes=0-99', 0, 99],
        ['bytes=100-', 100, size - 1],
        ['bytes=-50', size - 50, size - 1],
        [`bytes=10-${size + 1000}`, 10, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const response = await ask(range);
        expect(response.status, range).toBe(206);
        expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
        expect(response.headers.get('content-length')).toBe(String(end - start + 1));
        expect(Buffer.from(await response.arrayBuffer()).equals(whole.subarray(start, end + 1))).toBe(true);
      }
      const stale = await ask('bytes=0-9', { 'If-Range': '"another-version"' });
      expect(stale.status).toBe(200);
      expect((await stale.arrayBuffer()).byteLength).toBe(size);
      const outside = await ask(`bytes=${size}-`);
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${size}`);
      expect(outside.headers.get('cache-control')).toBe('no-store');
      await outside.arrayBuffer();
      const several = await ask('bytes=0-1,5-9');
      expect(several.status).toBe(200);
      await several.arrayBuffer();
    },
  );

  it.skipIf(skip)('is ready while the store answers, and says why not when it does not', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const wrong = s3
      ? { ...config, storageUrl: { kind: 's3' as const, bucket: 'no-such-bucket', prefix: '' } }
      : { ...config, storageUrl: { kind: 'fs' as const, root: '/proc/nope' } };
    const missing = objectStoreFor(wrong);
    const gone = createServer(
      testServerOptions(t.db, {
        openVariant: () => Promise.resolve(undefined),
        checkStorage: () => checkStorage(missing, wrong),
        localDiskDir: localDiskDir(config),
      }),
    );
    const answer = await gone.inject({ method: 'GET', url: '/readyz' });
    await gone.close();
    await missing.close();
    expect(answer.statusCode).toBe(503);
    const body = answer.json<{ checks: { storage: { ok: boolean; detail: string } } }>();
    expect(body.checks.storage.ok).toBe(false);
    expect(body.checks.storage.detail).toMatch(
      s3 ? /NoSuchBucket/ : /STORAGE_DIR \/proc\/nope cannot be used/,
    );
  });

  it.skipIf(skip)('redirects to PUBLIC_MEDIA_BASE_URL/<key> instead of sending bytes, when set', async () => {
    const redirecting = createServer(
      testServerOptions(t.db, {
        openVariant: () => Promise.reject(new Error('a redirect reads nothing')),
        publicBaseUrl: 'https://cdn.example.test/media/',
        checkStorage: () => Promise.resolve(),
        localDiskDir: localDiskDir(config),
      }),
    );
    const [grid] = (await listVariants(t.db, id.cat)).filter((v) => v.size === 'grid' && v.format === 'avif');
    const answer = await redirecting.inject({
      method: 'GET',
      url: `/serve/${id.cat}?size=grid`,
      headers: { accept: 'image/avif,image/webp' },
    });
    await redirecting.close();
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe(`https://cdn.example.test/media/${grid!.path}`);
    expect(answer.headers.vary).toBe('Accept');
  });
});
