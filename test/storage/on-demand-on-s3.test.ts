/**
 * On-demand variants on a bucket as on disk: the first /serve for a zoom
 * reads the original from the store (a bucket: downloaded to scratch),
 * renders, PUTs the variant with its type and caching, and answers; the
 * next request is a hit served through the read-through cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer as collect } from 'node:stream/consumers';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { createServer } from '../../src/http/server.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { createVariantSource } from '../../src/http/variant-source.js';
import { createImageRuntime, type ImageRuntime } from '../../src/images/image-runtime.js';
import { VARIANT_CACHE_CONTROL } from '../../src/images/presets.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { OnDemandRenderer } from '../../src/serve/render-on-demand.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { checkStorage, localDiskDir, objectStoreFor } from '../../src/storage/object-store-for.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { useMotoServer } from '../helpers/moto-server.js';
import { withPipeline } from '../helpers/pipeline.js';
import { testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const moto = useMotoServer();

describe.each([
  { name: 'filesystem', s3: false },
  { name: 'S3 (moto)', s3: true },
])('on-demand variants on $name', ({ s3 }) => {
  const skip = s3 && !moto.available;
  let t: TestDatabase;
  let dir: string;
  let store: ObjectStore;
  let images: ImageRuntime;
  let server: FastifyInstance;
  let base: string;
  let mediaId: number;
  let renders = 0;

  beforeAll(async () => {
    if (skip) return;
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-on-demand-s3-'));
    const bucket = `on-demand-${Math.random().toString(36).slice(2, 8)}`;
    const config = loadConfig({
      DATABASE_URL: t.url,
      SCRATCH_DIR: path.join(dir, 'scratch'),
      SERVE_CACHE_DIR: path.join(dir, 'serve-cache'),
      ...(s3
        ? { STORAGE_URL: `s3://${bucket}/media`, S3_ENDPOINT: moto.server.endpoint }
        : { STORAGE_DIR: path.join(dir, 'storage') }),
    });
    store = objectStoreFor(config);
    if (store instanceof S3ObjectStore) await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const big = path.join(dir, 'big.jpg');
    await sharp(SAMPLE('hubble-deep-field.jpg')).resize(2600).jpeg().toFile(big);
    mediaId = (await ingestFiles(t.db, [big], { userId: 4, role: 'product', isTestData: false }))[0]!;
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps, { concurrency: 1 }).run());
    images = createImageRuntime(config.imageMemoryMb);
    const lookup = new VariantLookup(t.db);
    lookup.enableOnDemand(
      new OnDemandRenderer({
        db: t.db,
        store,
        images,
        maxInputPixels: config.maxInputPixels,
        concurrency: 1,
        holder: 'test',
        log: silentLogger(),
        onRendered: () => renders++,
      }),
    );
    const source = createVariantSource({
      store,
      remote: s3,
      cacheDir: config.serveCacheDir,
      cacheBytes: 64 * 1024 * 1024,
      memoryCacheBytes: 16 * 1024 * 1024,
      log: silentLogger(),
    });
    await source.start();
    server = createServer(
      testServerOptions(t.db, {
        openVariant: source.open,
        checkStorage: () => checkStorage(store, config),
        localDiskDir: localDiskDir(config),
        lookup,
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 180_000);

  afterAll(async () => {
    if (skip) return;
    await server?.close();
    await images?.close();
    await store?.close();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)(
    'renders a zoom on first request, stores it like any variant, then serves hits',
    async () => {
      const get = async () => {
        const response = await fetch(`${base}/serve/${mediaId}?size=zoom&format=webp`);
        return {
          status: response.status,
          etag: response.headers.get('etag'),
          bytes: Buffer.from(await response.arrayBuffer()),
        };
      };
      const first = await get();
      expect(first.status).toBe(200);
      expect((await sharp(first.bytes).metadata()).width).toBe(2400);
      const row = (await listVariants(t.db, mediaId)).find((v) => v.size === 'zoom')!;
      expect(row).toMatchObject({ format: 'webp', bytes: first.bytes.length, etag: first.etag });
      const object = (await store.open(row.path))!;
      expect(await collect(object.stream)).toEqual(first.bytes);
      expect(object.contentType).toBe('image/webp');
      if (s3) expect(object.cacheControl).toBe(VARIANT_CACHE_CONTROL);
      const again = await get();
      expect(again).toMatchObject({ status: 200, etag: first.etag });
      expect(again.bytes).toEqual(first.bytes);
      expect(renders).toBe(1);
    },
  );
});
