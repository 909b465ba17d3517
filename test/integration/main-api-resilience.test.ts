/**
 * The main API failing in ways that must not cost an upload its attempts or
 * its life: an outage (the breaker), a 200 maintenance page, a body that ends
 * with its connection half-way, a worker without MAIN_API_URL on the same
 * database, an oversized list that must not stop the failure outbox, and an
 * operator's requeue after the heal budget. Real fake main API on 127.0.0.1,
 * real client, poller, pipeline and database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { healFailedItems } from '../../src/db/heal-items.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { requeueItems } from '../../src/db/requeue-items.js';
import { RateLimitError } from '../../src/errors.js';
import { MainApiClient } from '../../src/intake/main-api-client.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { fakeMainApiClient, fakeMainApiPoller } from '../helpers/main-api-clients.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

describe('main API resilience', () => {
  let t: TestDatabase;
  let dir: string;
  let api: FakeMainApi;
  let photo: Buffer;
  let nextId = 7000;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-resilience-'));
    photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#a53' } })
      .jpeg()
      .toBuffer();
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    api = new FakeMainApi();
    await api.start();
    await t.db('media_files').delete();
  });
  afterEach(async () => {
    await api.stop();
  });

  function addUpload(): number {
    const id = nextId++;
    api.add({ id, userId: 3, imagePath: `/temp_images/p/3-product-1704110400-${id}.jpg`, file: photo });
    return id;
  }

  function connect(pendingListMaxBytes = 2 ** 20) {
    const client = fakeMainApiClient(api, { pendingListMaxBytes });
    return { client, poller: fakeMainApiPoller(t.db, client) };
  }

  async function work(client: MainApiClient | undefined, maxAttempts = 3): Promise<void> {
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      ANALYSIS_PROVIDERS: 'local',
      GONE_CONFIRM_MS: '50',
    });
    const storage = new FsObjectStore(config.storageDir);
    await withPipeline(
      config,
      t.db,
      storage,
      (steps) => makeWorker(t.db, steps, { maxAttempts, retryBaseMs: 30, concurrency: 1 }).run(),
      client ? { mainApi: client } : {},
    );
  }

  async function itemOf(mainApiId: number) {
    const row = (await t.db('media_files').where({ main_api_id: mainApiId }).first('id')) as { id: number };
    const id = Number(row.id);
    return { id, media: (await findMedia(t.db, id))!, checklist: (await findChecklist(t.db, id))! };
  }

  it('holds calls back after three outage-like failures in a row, without sending them', async () => {
    const { client } = connect();
    api.faults.push({ path: /pending/, fault: '500', times: 3 });
    for (let i = 0; i < 3; i++) await expect(client.listPending()).rejects.toThrow(/answered 500/);
    const sent = api.requests.length;
    const held = await client.listPending().catch((error: unknown) => error);
    expect(held).toBeInstanceOf(RateLimitError); // gives items back without using their attempts
    expect((held as Error).message).toMatch(/failed 3 calls in a row/);
    expect(api.requests.length).toBe(sent);
    await new Promise((resolve) => setTimeout(resolve, (held as RateLimitError).retryAfterMs + 20));
    await expect(client.listPending()).resolves.toMatchObject({ images: [] }); // the probe closes it
    await expect(client.listPending()).resolves.toMatchObject({ images: [] });
  });

  it('a queue through a main API outage keeps its attempts: items wait, then complete', async () => {
    const ids = Array.from({ length: 8 }, addUpload);
    const { client, poller } = connect();
    await poller.pollOnce();
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: '500', times: 5 });
    await work(client, 3);
    for (const id of ids) expect((await itemOf(id)).checklist.state).toBe('completed');
    const released = (await t
      .db('processing_events')
      .where({ event: 'released' })
      .pluck('message')) as string[];
    expect(released.some((m) => /failed 3 calls in a row/.test(m))).toBe(true);
    // Items claimed while the breaker was open went back untouched: no 'started', no attempt.
    expect(released.some((m) => /retrieve waits: main API calls are held back/.test(m))).toBe(true);
    const attempts = (await t.db('processing_checklist').pluck('retrieve_file_attempts')) as number[];
    expect(attempts.reduce((sum, n) => sum + Number(n), 0)).toBeLessThanOrEqual(ids.length + 2);
  });

  it.each([
    [
      'a 200 maintenance page instead of the file',
      'html-page',
      /text\/html; charset=utf-8 page, not the file/,
    ],
    ['a body that ended with its connection half-way', 'cut-close', /cut short/],
  ] as const)('retries %s instead of failing the upload as not an image', async (_what, fault, reason) => {
    const id = addUpload();
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault, times: 1 });
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client);
    const { id: mediaId, checklist } = await itemOf(id);
    expect(checklist).toMatchObject({ state: 'completed', retrieve_file_attempts: 2 });
    const retry = (await t
      .db('processing_events')
      .where({ media_id: mediaId, event: 'retry_scheduled' })
      .first()) as { error_class: string; message: string };
    expect(retry).toMatchObject({ error_class: 'TRANSIENT', message: expect.stringMatching(reason) });
  });

  it('a worker without MAIN_API_URL gives main API uploads back untouched', async () => {
    const id = addUpload();
    const { client, poller } = connect();
    await poller.pollOnce();
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      ANALYSIS_PROVIDERS: 'local',
    });
    await withPipeline(config, t.db, new FsObjectStore(config.storageDir), async (steps) => {
      const worker = makeWorker(t.db, steps, { once: false, concurrency: 1 });
      const running = worker.run();
      await new Promise((resolve) => setTimeout(resolve, 500));
      worker.stop();
      await running;
    });
    const before = await itemOf(id);
    expect(before.checklist).toMatchObject({
      state: 'queued',
      retrieve_file: 'pending',
      retrieve_file_attempts: 0,
    });
    // A worker that has the main API takes it from there.
    await t.db('processing_checklist').where({ media_id: before.id }).update({ next_attempt_at: Date.now() });
    await work(client);
    expect((await itemOf(id)).checklist.state).toBe('completed');
    expect(api.calls('POST', new RegExp(`/complete/${id}$`))).toHaveLength(1);
  });

  it('sends failure reports even while the pending list cannot be read', async () => {
    const bad = nextId++;
    api.rawEntries.push({ id: bad, image_path: 'http://elsewhere/x.jpg' });
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client);
    for (let i = 0; i < 200; i++) addUpload(); // the list is now far over the cap below
    const { poller: capped } = connect(4096);
    await expect(capped.pollOnce()).rejects.toThrow(/PENDING_LIST_MAX_BYTES/);
    expect(api.calls('DELETE', new RegExp(`/cleanup/${bad}$`))).toHaveLength(1);
  });

  it('a served item stays served while an operator re-renders it, and after', async () => {
    const id = addUpload();
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client);
    const { id: mediaId } = await itemOf(id);
    expect((await requeueItems(t.db, [mediaId], 'resize')).requeued).toEqual([mediaId]);
    expect((await itemOf(id)).media.status).toBe('completed');
    expect((await new VariantLookup(t.db).find(mediaId)).state).toBe('ready');
    await work(client);
    const after = await itemOf(id);
    expect(after.checklist).toMatchObject({ state: 'completed', resize_optimize_attempts: 1 });
    expect(after.media.status).toBe('completed');
    expect((await new VariantLookup(t.db).find(mediaId)).state).toBe('ready');
  });

  it("an operator's requeue gives a fresh heal budget", async () => {
    const id = addUpload();
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: '500', times: 1 });
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client, 1);
    const budget = { maxHeals: 0, maxAgeMs: 86_400_000 };
    await healFailedItems(t.db, { limit: 10, ignoreSchedule: true, budget });
    const spent = await itemOf(id);
    expect(spent.checklist.gave_up_at).toEqual(expect.any(Number));
    expect((await requeueItems(t.db, [spent.id])).requeued).toEqual([spent.id]);
    const fresh = await itemOf(id);
    expect(fresh.checklist).toMatchObject({ state: 'queued', gave_up_at: null, heal_count: 0 });
    await work(client);
    expect((await itemOf(id)).checklist.state).toBe('completed');
  });
});
