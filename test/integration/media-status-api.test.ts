/**
 * GET /api/media/:id on 127.0.0.1 with really processed images: a completed
 * item (its variant urls answer), a pending one, failed ones (a non-image, a
 * cut-off JPEG), the Bearer key (none, wrong, none configured), 404 and 400,
 * and `show --json` giving the very same view (the built CLI, spawned).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ItemView } from '../../src/db/item-view.js';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const KEY = 'media-api-key-0123456789';

describe('GET /api/media/:id', () => {
  let t: TestDatabase;
  let dir: string;
  let storage: FsObjectStore;
  let options: ServerOptions;
  let server: FastifyInstance;
  let base: string;
  const id: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-api-'));
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    storage = new FsObjectStore(config.storageDir);
    const notAnImage = path.join(dir, 'notes.jpg');
    fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
    const cat = fs.readFileSync(fixtures.SAMPLE('cat-chelsea.png'));
    const cut = fixtures.writeFixture(dir, 'cut.png', fixtures.truncated(cat));
    const ingest = async (file: string) =>
      (await ingestFiles(t.db, [file], { userId: 3, role: 'product', isTestData: false }))[0]!;
    id.completed = await ingest(fixtures.SAMPLE('cat-chelsea.png'));
    id.notImage = await ingest(notAnImage);
    id.corrupt = await ingest(cut);
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps).run());
    id.pending = await ingest(fixtures.SAMPLE('coffee-cup.png'));
    options = testServerOptions(t.db, {
      ...serverStorage(storage),
      mediaApiKey: KEY,
    });
    server = createServer(options);
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, key: string | null = KEY) =>
    fetch(`${base}${url}`, key === null ? {} : { headers: { authorization: `Bearer ${key}` } });
  const view = async (mediaId: number) => {
    const response = await get(`/api/media/${mediaId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return (await response.json()) as ItemView;
  };

  it('a completed item: steps with their times, variants whose urls answer, links', async () => {
    const body = await view(id.completed!);
    expect(body).toMatchObject({ media_id: id.completed, status: 'completed', failure: null });
    expect(body.links).toEqual({
      self: `/api/media/${id.completed}`,
      serve: `/serve/${id.completed}`,
      analysis: `/api/media/analysis/${id.completed}`,
    });
    expect(body.created_at).toBeTypeOf('number');
    expect(body.completed_at).toBeGreaterThanOrEqual(body.created_at);
    expect(body.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['retrieve', 'completed', 1],
      ['analyse', 'completed', 1],
      ['resize', 'completed', 1],
      ['callback', 'skipped', 1],
    ]);
    for (const step of body.steps) {
      expect(step.started_at).toBeGreaterThanOrEqual(body.created_at);
      expect(step.finished_at).toBeGreaterThanOrEqual(step.started_at!);
      expect(step.duration_ms).toBe(step.finished_at! - step.started_at!);
    }
    // product: thumbnail, small, grid, detail (cat-chelsea is smaller than zoom) × avif, webp, jpeg.
    expect(body.variants.length).toBeGreaterThanOrEqual(12);
    for (const variant of body.variants) {
      expect(variant.url).toBe(
        `/serve/${id.completed}?size=${variant.size}&format=${variant.format}&bg=${variant.bg}`,
      );
      const served = await fetch(`${base}${variant.url}`);
      expect(served.status, variant.url).toBe(200);
      expect(served.headers.get('content-type')).toBe(
        `image/${variant.format === 'jpeg' ? 'jpeg' : variant.format}`,
      );
      expect(Number(served.headers.get('content-length'))).toBe(variant.bytes);
      await served.arrayBuffer();
    }
    expect((await get(body.links.analysis)).status).toBe(200);
  });

  it('a pending item: nothing started, no times, no variants', async () => {
    const body = await view(id.pending!);
    expect(body).toMatchObject({ status: 'pending', failure: null, completed_at: null, variants: [] });
    expect(body.steps.every((s) => s.status === 'pending' && s.attempts === 0)).toBe(true);
    expect(body.steps.every((s) => s.started_at === null && s.finished_at === null)).toBe(true);
  });

  it.each([
    ['a non-image', 'notImage', 'retrieve', /^not an image: unrecognised file signature/],
    // Its header reads, so retrieve takes it; the decode in analyse finds the cut.
    ['a cut-off PNG', 'corrupt', 'analyse', /corrupt, truncated or unsupported/],
  ])(
    '%s: failed, INVALID_INPUT, at the step that saw it, with the message',
    async (_name, key, step, message) => {
      const body = await view(id[key]!);
      expect(body.status).toBe('failed');
      expect(body.failure).toMatchObject({ step, error_class: 'INVALID_INPUT' });
      expect(body.failure!.message).toMatch(message);
      const failedStep = body.steps.find((s) => s.name === body.failure!.step)!;
      expect(failedStep).toMatchObject({ status: 'failed', attempts: 1 });
      expect(failedStep.finished_at).toBeGreaterThanOrEqual(failedStep.started_at!);
      expect(body.variants).toEqual([]);
    },
  );

  it('refuses without the key or with a wrong one: 401, WWW-Authenticate: Bearer', async () => {
    for (const key of [null, 'wrong-key', '']) {
      for (const url of [`/api/media/${id.completed}`, '/api/media', '/api/media/nope']) {
        const response = await get(url, key);
        expect(response.status, `${url} ${key}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(await response.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      }
    }
    const basic = await fetch(`${base}/api/media/${id.completed}`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
  });

  it('answers nobody without a MEDIA_API_KEY configured', async () => {
    const keyless = createServer({ ...options, mediaApiKey: undefined });
    const keylessBase = await keyless.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: 'Bearer ' },
        { authorization: `Bearer ${KEY}` },
      ]) {
        for (const url of [`/api/media/${id.completed}`, '/api/media']) {
          const response = await fetch(`${keylessBase}${url}`, { headers });
          expect(response.status).toBe(401);
          const body = (await response.json()) as { error: string; message: string };
          expect(body).toEqual({ error: 'unauthorized', message: expect.stringMatching(/MEDIA_API_KEY/) });
        }
      }
    } finally {
      await keyless.close();
    }
  });

  it('404 for an unknown id, 400 naming id for a bad one', async () => {
    const missing = await get('/api/media/999999');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found', message: 'no media item with id 999999' });
    // A very long one too: the router's parameter limit must not turn it into a 404 "no route".
    for (const bad of [
      'abc',
      '0',
      '-1',
      '1.5',
      '01',
      '9999999999999999',
      '7'.repeat(300),
      'x'.repeat(1000),
    ]) {
      const response = await get(`/api/media/${bad}`);
      expect(response.status, bad).toBe(400);
      expect(await response.json()).toEqual({
        error: 'bad_request',
        message: expect.any(String),
        field: 'id',
      });
    }
  });

  it('show --json carries the same view as the API, and keeps its own fields', async () => {
    for (const mediaId of [id.completed!, id.notImage!, id.pending!]) {
      const shown = await runCli(['show', String(mediaId), '--json'], {
        DATABASE_URL: t.url,
        STORAGE_DIR: storage.root,
      });
      expect(shown.code, shown.stderr).toBe(0);
      const detail = JSON.parse(shown.stdout) as Record<string, unknown> & { api: ItemView };
      expect(Object.keys(detail)).toEqual(['media', 'checklist', 'steps', 'events', 'variants', 'api']);
      expect(detail.api).toEqual(await view(mediaId));
    }
  });
});
