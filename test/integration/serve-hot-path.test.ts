/**
 * /serve's hot path (serve-hot-path.ts) on a real server with really
 * processed images: a hit for a variant held in memory is answered before
 * fastify, with exactly the status, headers and bytes the /serve route gives
 * (compared with a server without the memory cache), and everything the hot
 * path does not answer (ranges, bad or repeated parameters, unknown items,
 * the first request) still gets the route's answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/http/server.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { createVariantSource } from '../../src/http/variant-source.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Headers that differ between any two answers (the clock, the connection) and say nothing about the variant. */
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

async function ask(base: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${base}${url}`, init);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_RESPONSE.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}

describe('/serve hot path', () => {
  let t: TestDatabase;
  let dir: string;
  let mediaId: number;
  let withMemory: { server: FastifyInstance; base: string; metrics: Metrics };
  let routeOnly: { server: FastifyInstance; base: string };

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-hot-path-'));
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    const store = new FsObjectStore(config.storageDir);
    mediaId = (
      await ingestFiles(t.db, [fixtures.SAMPLE('cat-chelsea.png')], {
        userId: 1,
        role: 'product',
        isTestData: false,
      })
    )[0]!;
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());

    const source = createVariantSource({
      store,
      remote: false,
      cacheDir: '',
      cacheBytes: 0,
      memoryCacheBytes: 8 * 1024 * 1024,
      log: silentLogger(),
    });
    const metrics = new Metrics();
    const memoryServer = createServer(
      testServerOptions(t.db, {
        ...serverStorage(store),
        openVariant: source.open,
        heldVariant: source.held,
        metrics,
        // Lookups kept for the whole test: with the daemon's 1 s, a slow machine could see one
        // expire between a priming request and the hit, and the route (rightly) answers that hit.
        lookup: new VariantLookup(t.db, 600_000),
      }),
    );
    withMemory = {
      server: memoryServer,
      base: await memoryServer.listen({ host: '127.0.0.1', port: 0 }),
      metrics,
    };
    const plainServer = createServer(testServerOptions(t.db, serverStorage(store)));
    routeOnly = { server: plainServer, base: await plainServer.listen({ host: '127.0.0.1', port: 0 }) };
  });
  afterAll(async () => {
    await withMemory.server.close();
    await routeOnly.server.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function memoryHits(): Promise<number> {
    const text = await withMemory.metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('media_worker_serve_memory_hits_total '));
    return Number(line?.split(' ')[1]);
  }

  const etagOf = async (url: string) => (await ask(routeOnly.base, url)).headers.etag!;

  it.each([
    ['an explicit format', `?size=grid&format=webp`, {}],
    ['a format Accept chose (Vary: Accept)', `?size=grid`, { accept: 'image/avif,image/webp,*/*' }],
    ['the default size and a JPEG-only client', ``, { accept: 'image/jpeg' }],
  ])('answers a held variant for %s as the route does, GET and HEAD', async (_name, query, headers) => {
    const url = `/serve/${mediaId}${query}`;
    const expected = await ask(routeOnly.base, url, { headers });
    expect(expected.status).toBe(200);
    await ask(withMemory.base, url, { headers }); // the first request goes through the route and fills memory
    const before = await memoryHits();
    const hit = await ask(withMemory.base, url, { headers });
    const head = await ask(withMemory.base, url, { headers, method: 'HEAD' });
    expect(await memoryHits()).toBe(before + 2);
    expect(hit).toEqual(expected);
    const expectedHead = await ask(routeOnly.base, url, { headers, method: 'HEAD' });
    expect(head).toEqual(expectedHead);
    expect(head.headers['content-length']).toBe(String(expected.body.length));
    expect(head.body.length).toBe(0);
  });

  it('answers a revalidation 304 as the route does, with Vary when Accept chose', async () => {
    const etag = await etagOf(`/serve/${mediaId}?size=grid&format=webp`);
    for (const query of ['?size=grid&format=webp', '?size=grid']) {
      const url = `/serve/${mediaId}${query}`;
      const headers = { accept: 'image/webp,*/*', 'if-none-match': etag };
      await ask(withMemory.base, url, { headers: { accept: headers.accept } });
      const before = await memoryHits();
      const hit = await ask(withMemory.base, url, { headers });
      expect(await memoryHits()).toBe(before + 1);
      expect(hit.status).toBe(304);
      expect(hit).toEqual(await ask(routeOnly.base, url, { headers }));
    }
  });

  it('leaves ranges, wrong or repeated parameters, unknown items and other methods to the route', async () => {
    const url = `/serve/${mediaId}?size=grid&format=webp`;
    await ask(withMemory.base, url);
    const before = await memoryHits();
    const cases: Array<[string, RequestInit]> = [
      [url, { headers: { range: 'bytes=0-99' } }],
      [`/serve/${mediaId}?size=grid&size=small&format=webp`, {}],
      [`/serve/${mediaId}?size=huge`, {}],
      [`/serve/0${mediaId}x`, {}],
      [`/serve/999999?size=grid`, {}],
      [url, { method: 'POST' }],
    ];
    for (const [caseUrl, init] of cases) {
      const answer = await ask(withMemory.base, caseUrl, init);
      expect(answer).toEqual(await ask(routeOnly.base, caseUrl, init));
    }
    expect(await memoryHits()).toBe(before);
    const range = await ask(withMemory.base, url, { headers: { range: 'bytes=0-99' } });
    expect(range.status).toBe(206);
    expect(range.body.length).toBe(100);
  });

  it('counts its hits in serve_requests_total like the route', async () => {
    const url = `/serve/${mediaId}?size=small&format=jpeg`;
    await ask(withMemory.base, url);
    const count = async () => {
      const text = await withMemory.metrics.registry.metrics();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('media_worker_serve_requests_total{status="200",format="jpeg"}'));
      return Number(line?.split(' ')[1]);
    };
    const before = await count();
    await ask(withMemory.base, url);
    await ask(withMemory.base, url);
    expect(await count()).toBe(before + 2);
  });
});
