/**
 * The HTTP server on 127.0.0.1 with really processed images: negotiation,
 * fallbacks, caching headers, errors (never cacheable: missing or damaged
 * files, a database outage), metrics (checked by promtool), health, and the
 * analysis API.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { createServer } from '../../src/http/server.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { waitFor } from '../helpers/processes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';

const KEY = 'test-key-0123456789';

describe('HTTP server', () => {
  let t: TestDatabase;
  let dir: string;
  let storage: FsObjectStore;
  let server: FastifyInstance;
  let base: string;
  const id: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-http-'));
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    storage = new FsObjectStore(config.storageDir);
    const logo = fixtures.writeFixture(dir, 'flat-logo.png', await fixtures.flatLogoOnWhite());
    id.cat = (
      await ingestFiles(t.db, [fixtures.SAMPLE('cat-chelsea.png')], {
        userId: 1,
        role: 'product',
        isTestData: false,
      })
    )[0]!;
    id.logo = (await ingestFiles(t.db, [logo], { userId: 1, role: 'logo', isTestData: false }))[0]!;
    id.deleted = (
      await ingestFiles(t.db, [fixtures.SAMPLE('coffee-cup.png')], {
        userId: 1,
        role: 'product',
        isTestData: false,
      })
    )[0]!;
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps).run());
    await t.db('media_files').where({ id: id.deleted }).update({ status: 'deleted', deleted_at: Date.now() });
    id.pending = (
      await ingestFiles(t.db, [fixtures.SAMPLE('coffee-cup.png')], {
        userId: 1,
        role: 'product',
        isTestData: false,
      })
    )[0]!;
    const metrics = new Metrics();
    metrics.watchQueue(t.db, storage.root);
    server = createServer(
      testServerOptions(t.db, {
        ...serverStorage(storage),
        metrics,
        mediaApiKey: KEY,
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${base}${url}`, { headers, method });
  const variantPath = async (mediaId: number, size: string, format: string, bg = 'original') =>
    (await listVariants(t.db, mediaId)).find((v) => v.size === size && v.format === format && v.bg === bg)!
      .path;

  it.each([
    ['an AVIF-capable browser', 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'image/avif'],
    ['a WebP-only browser', 'image/webp,*/*', 'image/webp'],
    ['*/* only', '*/*', 'image/jpeg'],
    ['image/* only', 'image/*', 'image/jpeg'],
    ['AVIF excluded with q=0', 'image/avif;q=0,image/webp,*/*', 'image/webp'],
    [
      'JPEG and WebP excluded, AVIF only through a wildcard',
      'image/jpeg;q=0,image/webp;q=0,*/*;q=0.5',
      'image/avif',
    ],
  ])('negotiates for %s', async (_name, accept, type) => {
    const response = await get(`/serve/${id.cat}?size=grid`, { accept });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('vary')).toBe('Accept');
    await response.body?.cancel(); // an unread body holds its connection open
  });

  it('serves JPEG with no Accept header, and 406 when nothing is acceptable', async () => {
    const plain = await fetch(`${base}/serve/${id.cat}`, { headers: { accept: '' } });
    expect(plain.headers.get('content-type')).toBe('image/jpeg');
    expect((await get(`/serve/${id.cat}`, { accept: 'image/jpeg;q=0, text/html' })).status).toBe(406);
  });

  it('lets an explicit format win, without Vary, and says when it does not exist', async () => {
    const response = await get(`/serve/${id.cat}?format=webp`, { accept: 'image/avif,*/*' });
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('vary')).toBeNull();
    const png = await get(`/serve/${id.cat}?format=png`);
    expect(png.status).toBe(404);
    expect(await png.json()).toMatchObject({
      error: 'format_unavailable',
      message: 'no png variant; available: avif, webp, jpeg',
    });
  });

  it('serves PNG when asked and present (logos)', async () => {
    const response = await get(`/serve/${id.logo}?size=small`, { accept: 'image/png,*/*;q=0.5' });
    expect(response.headers.get('content-type')).toBe('image/png');
  });

  it('falls back: no size → thumbnail, a missing size → detail, bg=removed → original when absent', async () => {
    const bytes = async (url: string) =>
      Buffer.from(await (await get(url, { accept: 'image/webp' })).arrayBuffer());
    const file = async (size: string, bg = 'original', mediaId = id.cat!) =>
      fs.readFileSync(storage.pathOf(await variantPath(mediaId, size, 'webp', bg)));
    expect((await bytes(`/serve/${id.cat}`)).equals(await file('thumbnail'))).toBe(true);
    expect((await bytes(`/serve/${id.cat}?size=zoom`)).equals(await file('detail'))).toBe(true);
    expect((await bytes(`/serve/${id.cat}?size=header`)).equals(await file('detail'))).toBe(true);
    expect((await bytes(`/serve/${id.cat}?size=grid&bg=removed`)).equals(await file('grid'))).toBe(true);
    expect(
      (await bytes(`/serve/${id.logo}?size=grid&bg=removed`)).equals(await file('grid', 'removed', id.logo)),
    ).toBe(true);
  });

  it('sends the file on disk byte for byte, with caching headers, 304 on a matching ETag, and HEAD without a body', async () => {
    const response = await get(`/serve/${id.cat}?size=detail&format=avif`);
    const body = Buffer.from(await response.arrayBuffer());
    const onDisk = fs.readFileSync(storage.pathOf(await variantPath(id.cat!, 'detail', 'avif')));
    expect(body.equals(onDisk)).toBe(true);
    expect(response.headers.get('content-length')).toBe(String(onDisk.length));
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('last-modified')).toMatch(/GMT$/);
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const revalidated = await get(`/serve/${id.cat}?size=detail&format=avif`, {
      'if-none-match': `"other", ${etag}`,
    });
    expect(revalidated.status).toBe(304);
    expect((await revalidated.arrayBuffer()).byteLength).toBe(0);
    const head = await get(`/serve/${id.cat}?size=detail&format=avif`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(onDisk.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ['size=huge', 'size'],
    ['format=gif', 'format'],
    ['bg=none', 'bg'],
  ])('answers 400 naming the parameter for %s', async (query, parameter) => {
    const response = await get(`/serve/${id.cat}?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'bad_request', parameter });
  });

  it('answers 400 for a bad id, 404 for unknown or unfinished items, 410 for deleted ones', async () => {
    expect(await (await get('/serve/abc')).json()).toMatchObject({ parameter: 'mediaId' });
    expect((await get('/serve/999999')).status).toBe(404);
    const pending = await get(`/serve/${id.pending}`);
    expect(pending.status).toBe(404);
    expect(await pending.json()).toMatchObject({ error: 'not_ready' });
    expect((await get(`/serve/${id.deleted}`)).status).toBe(410);
  });

  const expectUncacheable = (response: Response) => {
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
  };

  it.each([
    ['a bad parameter', () => `/serve/${id.cat}?size=huge`, {}, 400],
    ['an unknown item', () => '/serve/999999', {}, 404],
    ['an unfinished item', () => `/serve/${id.pending}`, {}, 404],
    ['a deleted item', () => `/serve/${id.deleted}`, {}, 410],
    ['a format that does not exist', () => `/serve/${id.cat}?format=png`, {}, 404],
    ['nothing acceptable', () => `/serve/${id.cat}`, { accept: 'text/html' }, 406],
  ])('marks the answer for %s no-store, without validators', async (_name, url, headers, status) => {
    const response = await get(url(), headers);
    expect(response.status).toBe(status);
    expectUncacheable(response);
  });

  it('answers 404 no-store, never 304, for a variant whose file was deleted from disk', async () => {
    const url = `/serve/${id.cat}?size=small&format=jpeg`;
    const served = await get(url);
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    const etag = served.headers.get('etag')!;
    fs.rmSync(storage.pathOf(await variantPath(id.cat!, 'small', 'jpeg')));
    const headerSets: Record<string, string>[] = [{}, { 'if-none-match': etag }, { 'if-none-match': '*' }];
    for (const headers of headerSets) {
      const response = await get(url, headers);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'file_missing' });
      expectUncacheable(response);
    }
    const head = await get(url, { 'if-none-match': etag }, 'HEAD');
    expect(head.status).toBe(404);
    expectUncacheable(head);
  });

  it('answers 500 no-store for a variant file damaged on disk (truncated)', async () => {
    const url = `/serve/${id.cat}?size=small&format=webp`;
    const first = await get(url);
    const etag = first.headers.get('etag')!;
    await first.body?.cancel(); // an unread body holds its connection open
    fs.truncateSync(storage.pathOf(await variantPath(id.cat!, 'small', 'webp')), 10);
    const headerSets: Record<string, string>[] = [{}, { 'if-none-match': etag }];
    for (const headers of headerSets) {
      const response = await get(url, headers);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        error: 'file_damaged',
        message: `the file of media item ${id.cat} is damaged`,
      });
      expectUncacheable(response);
    }
  });

  it('answers 503 with Retry-After and no-store, not a 500 with internals, while the database is down', async () => {
    const closed = connectDatabase(parseDatabaseUrl(t.url));
    await closed.destroy();
    const outage = createServer(
      testServerOptions(closed, {
        ...serverStorage(storage),
        mediaApiKey: KEY,
      }),
    );
    const outageBase = await outage.listen({ host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`${outageBase}/serve/${id.cat}?size=grid`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expectUncacheable(response);
      expect(await response.json()).toEqual({
        error: 'unavailable',
        message: 'the media database is not answering; try again shortly',
      });
    } finally {
      await outage.close();
    }
  });

  it('answers the API 503 with Retry-After while the database refuses connections', async () => {
    // A MariaDB that is down: nothing listens on port 1, so every query fails with ECONNREFUSED.
    const refused = connectDatabase(parseDatabaseUrl('mysql://worker@127.0.0.1:1/media'));
    const outage = createServer(testServerOptions(refused, { ...serverStorage(storage), mediaApiKey: KEY }));
    const outageBase = await outage.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const url of [`/api/media/${id.cat}`, '/api/media', `/api/media/${id.cat}/manifest`]) {
        const api = await fetch(`${outageBase}${url}`, { headers: { Authorization: `Bearer ${KEY}` } });
        expect(api.status, url).toBe(503);
        expect(api.headers.get('retry-after')).toBe('5');
        expect(await api.json()).toEqual({
          error: 'unavailable',
          message: 'the database is not answering; try again shortly',
        });
      }
    } finally {
      await outage.close();
      await refused.destroy();
    }
  });

  it('exposes metrics that pass promtool and move with requests', async () => {
    const count = async () => {
      const text = await (await get('/metrics')).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('media_worker_serve_requests_total{status="200",format="webp"}'));
      return { text, value: line ? Number(line.split(' ').pop()) : 0 };
    };
    const before = await count();
    await (await get(`/serve/${id.cat}?format=webp`)).arrayBuffer();
    await (await get(`/serve/${id.cat}?format=webp`)).arrayBuffer();
    // The counter moves on the server's 'finish' event, which may come just after the client has the body.
    let after = await count();
    await waitFor(async () => (after = await count()).value - before.value >= 2, 'the serve counter to move');
    expect(after.value - before.value).toBe(2);
    expect(after.text).toMatch(/media_worker_queue_items\{status="completed"\} 2/);
    expect(after.text).toMatch(/media_worker_storage_bytes\{area="library",data_type="product"\} [1-9]/);
    expect(after.text).toMatch(/media_worker_disk_free_bytes [1-9]/);
    expect(after.text).toMatch(/media_worker_process_cpu_seconds_total/);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: after.text, encoding: 'utf8' });
    if (promtool.error && process.env.CI !== 'true') {
      console.warn('promtool not installed (apt-get install prometheus): metrics lint not run');
      return;
    }
    expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
  });

  it('is alive and ready, and says which readiness check fails', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, storage: { ok: true }, disk: { ok: true }, mainApi: { ok: true } },
    });
  });

  it('fails readiness naming the disk check when the disk is past the alert threshold', async () => {
    const strict = createServer(
      testServerOptions(t.db, {
        ...serverStorage(storage),
        mediaApiKey: KEY,
        diskAlertPercent: 1,
        mainApiAuthProblem: () => 'main API answered 401',
      }),
    );
    const strictBase = await strict.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${strictBase}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.checks.disk).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/% used \(alert at 1%\)/),
    });
    expect(body.checks.mainApi).toEqual({ ok: false, detail: 'main API answered 401' });
    expect(body.checks.database).toEqual({ ok: true });
    await strict.close();
  });

  it('guards the analysis API with the key and answers per CONTRACT §6', async () => {
    expect((await get(`/api/media/analysis/${id.cat}`)).status).toBe(401);
    expect((await get(`/api/media/analysis/${id.cat}`, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`/api/media/analysis/${id.cat}`, { authorization: `Basic ${KEY}` })).status).toBe(401);
    const response = await get(`/api/media/analysis/${id.logo}`, { authorization: `Bearer ${KEY}` });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { success: boolean; analysis: Record<string, unknown> };
    expect(body.success).toBe(true);
    expect(body.analysis).toMatchObject({
      quality_score: expect.any(Number),
      dominant_colors: expect.any(Array),
      brand_colors: expect.any(Array),
      mood_keywords: expect.any(Array),
    });
    expect(Object.keys(body.analysis)).toEqual(
      expect.arrayContaining([
        'style',
        'medium',
        'site_context',
        'detected_objects',
        'detected_text',
        'confidence_score',
      ]),
    );
    expect((await get('/api/media/analysis/999999', { authorization: `Bearer ${KEY}` })).status).toBe(404);
  });
});
