/**
 * On-demand variants on SQLite and MariaDB, through the real HTTP server:
 * the resize step leaves zoom out; the first /serve for a zoom renders it
 * once however many ask at once (single flight), stores it (row + file,
 * metadata stripped) and answers; later requests are hits. A lease whose
 * holder died is taken over, a live one is waited for; the concurrency cap
 * answers 503 + Retry-After; once the original is gone the size falls back;
 * sizes_available and the manifest list the size; cleanup keeps an original
 * an on-demand size still needs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup/run-cleanup.js';
import { loadConfig } from '../../src/config.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { findMedia } from '../../src/db/records.js';
import { findServedItem } from '../../src/db/served-item.js';
import { createServer } from '../../src/http/server.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { createImageRuntime, type ImageRuntime } from '../../src/images/image-runtime.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { findManifest } from '../../src/manifest/media-manifest.js';
import { OnDemandRenderer } from '../../src/serve/render-on-demand.js';
import { buildCompleteBody } from '../../src/steps/callback-body.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** The real directory store, whose original reads wait while the gate is closed (to hold a render in progress). */
function gatedStore(store: FsObjectStore) {
  let open: Promise<void> = Promise.resolve();
  let release = () => undefined as void;
  const gated = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'localFile')
        return async (key: string) => {
          await open;
          return target.localFile(key);
        };
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as ObjectStore;
  return {
    store: gated,
    close: () => {
      open = new Promise<void>((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

describe.each(availableDialects())('on-demand variants on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let storage: FsObjectStore;
  let gate: ReturnType<typeof gatedStore>;
  let images: ImageRuntime;
  let server: FastifyInstance;
  let base: string;
  const renders: string[] = [];
  const id: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-on-demand-'));
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    expect(config.onDemandSizes).toEqual(['zoom']);
    storage = new FsObjectStore(config.storageDir);
    // A 2600 px wide photo (zoom is made for product photos larger than detail), with EXIF to strip.
    const big = path.join(dir, 'big.jpg');
    await sharp(SAMPLE('hubble-deep-field.jpg'))
      .resize(2600)
      .withExif({ IFD0: { Copyright: 'private-owner', Artist: 'someone' } })
      .jpeg({ quality: 90 })
      .toFile(big);
    for (const name of ['a', 'b', 'c']) {
      id[name] = (await ingestFiles(t.db, [big], { userId: 1, role: 'product', isTestData: false }))[0]!;
    }
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps).run());
    gate = gatedStore(storage);
    images = createImageRuntime(config.imageMemoryMb);
    const lookup = new VariantLookup(t.db);
    const renderer = new OnDemandRenderer({
      db: t.db,
      store: gate.store,
      images,
      maxInputPixels: config.maxInputPixels,
      concurrency: 1,
      holder: 'test-process',
      log: silentLogger(),
      leaseMs: 60_000,
      pollMs: 20,
      onRendered: (size, format) => renders.push(`${size}/${format}`),
    });
    lookup.enableOnDemand(renderer);
    server = createServer(testServerOptions(t.db, { ...serverStorage(storage), lookup }));
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await images?.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The answer, its body read (an unread body would hold its connection open). */
  const zoom = async (mediaId: number, format: string) => {
    const response = await fetch(`${base}/serve/${mediaId}?size=zoom&format=${format}`);
    return {
      status: response.status,
      headers: response.headers,
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  };

  it('leaves zoom to the first request, and still lists it', async () => {
    const sizes = new Set((await listVariants(t.db, id.a!)).map((v) => v.size));
    expect(sizes).toEqual(new Set(['thumbnail', 'small', 'grid', 'detail']));
    const body = await buildCompleteBody(t.db, (await findMedia(t.db, id.a!))!, 'http://x');
    expect(body.sizes_available).toEqual(['thumbnail', 'small', 'grid', 'detail', 'zoom']);
    const found = await findManifest(t.db, id.a!, '');
    if (!('manifest' in found)) throw new Error(found.message);
    const planned = found.manifest.variants.filter((v) => v.size === 'zoom');
    expect(planned.map((v) => v.format).sort()).toEqual(['avif', 'jpeg', 'webp']);
    expect(planned[0]).toMatchObject({ width: 2400, bytes: null, on_demand: true });
  });

  it('renders a zoom once for concurrent requests, stores it without metadata, then serves it as a hit', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => zoom(id.a!, 'webp')));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    const etags = new Set(answers.map((a) => a.headers.get('etag')));
    expect(etags.size).toBe(1);
    expect(renders).toEqual(['zoom/webp']);
    const bytes = answers[0]!.bytes;
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 2400 });
    expect(meta.exif).toBeUndefined();
    const stored = (await listVariants(t.db, id.a!)).find((v) => v.size === 'zoom' && v.format === 'webp')!;
    expect(stored).toMatchObject({ width: 2400, bytes: bytes.length, etag: [...etags][0] });
    expect(fs.readFileSync(path.join(storage.root, stored.path))).toEqual(bytes);
    const later = await zoom(id.a!, 'webp');
    expect(later.status).toBe(200);
    expect(later.headers.get('etag')).toBe([...etags][0]);
    expect(renders).toHaveLength(1);
  });

  it('takes over a lease whose holder died, and waits for a live one before taking it over', async () => {
    const expired = { media_id: id.a!, size: 'zoom', bg: 'original', token: 'dead', started_at: 0 };
    await t
      .db('on_demand_renders')
      .insert({ ...expired, format: 'jpeg', holder: 'dead-vm', lease_expires_at: 1 });
    expect((await zoom(id.a!, 'jpeg')).status).toBe(200);
    // A holder still within its lease that never finishes: the request waits it out, then renders itself.
    await t
      .db('on_demand_renders')
      .insert({ ...expired, format: 'avif', holder: 'stalled-vm', lease_expires_at: Date.now() + 1_000 });
    const avif = await zoom(id.a!, 'avif');
    expect(avif.status).toBe(200);
    expect((await sharp(avif.bytes).metadata()).format).toBe('heif');
    expect(renders).toEqual(['zoom/webp', 'zoom/jpeg', 'zoom/avif']);
    expect(Number(((await t.db('on_demand_renders').count({ n: '*' }).first()) as { n: unknown }).n)).toBe(0);
  });

  it('answers 503 with Retry-After beyond ON_DEMAND_CONCURRENCY, and renders once the slot is free', async () => {
    gate.close();
    const first = zoom(id.b!, 'webp');
    // The held render has taken the one slot once its lease row exists.
    while (Number(((await t.db('on_demand_renders').count({ n: '*' }).first()) as { n: unknown }).n) === 0)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await zoom(id.b!, 'jpeg');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.headers.get('cache-control')).toBe('no-store');
    gate.open();
    expect((await first).status).toBe(200);
    expect((await zoom(id.b!, 'jpeg')).status).toBe(200);
  });

  it('falls back to detail once the original is gone, and no longer lists zoom', async () => {
    await t.db('media_files').where({ id: id.c }).update({ bulk_path: null });
    const answer = await zoom(id.c!, 'webp');
    expect(answer.status).toBe(200);
    expect((await sharp(answer.bytes).metadata()).width).toBe(1200);
    const body = await buildCompleteBody(t.db, (await findMedia(t.db, id.c!))!, 'http://x');
    expect(body.sizes_available).not.toContain('zoom');
  });

  it('keeps past ORIGINALS_RETENTION_DAYS an original an on-demand size still needs', async () => {
    // a has every zoom format now; b lacks avif.
    const report = await runCleanup(t.db, storage, {
      expired: true,
      orphans: false,
      testData: false,
      dryRun: false,
      originalsDays: 1,
      now: Date.now() + 2 * 86_400_000,
    });
    expect(report.expiredOriginals).toEqual([id.a]);
    expect((await findServedItem(t.db, id.b!))!.bulk_path).not.toBeNull();
  });
});
