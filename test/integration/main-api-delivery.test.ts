/**
 * "Nothing lost" under the main API's weekly misbehaviour (issue 13): an empty
 * pending list, refused completions, trickling downloads, oversized lists,
 * floods of malformed entries, heal budgets. A real fake main API on
 * 127.0.0.1, the real client, poller, pipeline and worker loop, and a real
 * database (SQLite, and MariaDB where available).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { healFailedItems } from '../../src/db/heal-items.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { RateLimitError } from '../../src/errors.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { MainApiClient } from '../../src/intake/main-api-client.js';
import type { Logger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { fakeMainApiClient, fakeMainApiPoller } from '../helpers/main-api-clients.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { runCli, waitFor } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

describe.each(availableDialects())('main API delivery on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let api: FakeMainApi;
  let nextId = 5000;
  let photo: Buffer;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-delivery-'));
    photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a6' } })
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

  function connect(overrides: { log?: Logger; pendingListMaxBytes?: number; deadlineMs?: number } = {}) {
    const client = fakeMainApiClient(api, {
      timeoutMs: 5000,
      ...(overrides.deadlineMs ? { downloadDeadlineMs: overrides.deadlineMs } : {}),
      ...(overrides.pendingListMaxBytes ? { pendingListMaxBytes: overrides.pendingListMaxBytes } : {}),
    });
    const poller = fakeMainApiPoller(t.db, client, overrides.log ? { log: overrides.log } : {});
    return { client, poller };
  }

  async function work(client: MainApiClient, maxAttempts = 3): Promise<void> {
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      MAIN_API_URL: api.url,
      MEDIA_API_KEY: 'k',
      ANALYSIS_PROVIDERS: 'local',
      GONE_CONFIRM_MS: '50',
    });
    await withPipeline(
      config,
      t.db,
      new FsObjectStore(config.storageDir),
      (steps) => makeWorker(t.db, steps, { maxAttempts, retryBaseMs: 30, concurrency: 1 }).run(),
      { mainApi: client },
    );
  }

  async function itemOf(mainApiId: number) {
    const row = (await t.db('media_files').where({ main_api_id: mainApiId }).first('id')) as { id: number };
    const id = Number(row.id);
    return { id, media: (await findMedia(t.db, id))!, checklist: (await findChecklist(t.db, id))! };
  }

  it('fails nothing while the pending list is empty for several polls; all complete after', async () => {
    const ids = Array.from({ length: 6 }, addUpload);
    const { client, poller } = connect();
    expect(await poller.pollOnce()).toMatchObject({ imported: 6 });
    api.emptyPendingList = true;
    for (let i = 0; i < 4; i++) expect(await poller.pollOnce()).toMatchObject({ failuresReported: 0 });
    for (const id of ids) expect((await itemOf(id)).checklist.state).toBe('queued');
    api.emptyPendingList = false;
    await work(client);
    await poller.pollOnce();
    for (const id of ids) expect((await itemOf(id)).checklist.state).toBe('completed');
    expect(api.calls('POST', /complete/)).toHaveLength(6);
    expect(api.calls('DELETE', /cleanup/)).toHaveLength(0);
  });

  it('retries a refused full completion once with the minimal body, under the same key', async () => {
    const id = addUpload();
    api.richCompleteStatus = 422;
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client);
    const { id: mediaId, media, checklist } = await itemOf(id);
    expect(checklist).toMatchObject({ state: 'completed', update_callback_attempts: 1 });
    expect(media.callback_result).toBe('accepted_minimal');
    const posts = api.calls('POST', new RegExp(`/complete/${id}$`));
    expect(posts.map((p) => p.status)).toEqual([422, 200]);
    expect(JSON.parse(posts[1]!.body)).toEqual({ media_id: String(mediaId) });
    expect(new Set(posts.map((p) => p.headers['idempotency-key']))).toEqual(new Set([`media-${mediaId}`]));
  });

  it('keeps and serves an item the main API no longer knows (404 to complete), never reporting it', async () => {
    const id = addUpload();
    api.completeStatus = 404;
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client);
    await poller.pollOnce();
    const { id: mediaId, media, checklist } = await itemOf(id);
    expect(checklist.state).toBe('completed');
    expect(media).toMatchObject({ status: 'completed', callback_result: 'upload_unknown' });
    expect((await new VariantLookup(t.db).find(mediaId)).state).toBe('ready');
    expect(api.calls('DELETE', /cleanup/)).toHaveLength(0);
    const shown = await runCli(['show', String(mediaId)], { DATABASE_URL: t.url });
    expect(shown.stdout).toMatch(
      /main API answer to the completion: the main API no longer knows this upload/,
    );
    const metrics = new Metrics();
    metrics.watchQueue(t.db, dir);
    expect(await metrics.registry.getSingleMetricAsString('media_worker_callback_results')).toMatch(
      /media_worker_callback_results\{result="upload_unknown"\} 1/,
    );
  });

  it('a completion refused every time fails at the callback but stays served, and is never reported', async () => {
    const id = addUpload();
    api.completeStatus = 400;
    const { client, poller } = connect();
    await poller.pollOnce();
    await work(client, 2);
    const before = await itemOf(id);
    expect(before.checklist).toMatchObject({
      state: 'failed',
      failed_step: 'callback',
      last_error_class: 'TRANSIENT',
      last_error: expect.stringMatching(/400 to both the full and the minimal body/),
    });
    expect(before.media.status).toBe('completed');
    expect((await new VariantLookup(t.db).find(before.id)).state).toBe('ready');
    // The heal budget does not apply to a delivered item's report: it is healed again, never given
    // up (nobody else would send it), and still never reported for cleanup.
    const budget = { maxHeals: 0, maxAgeMs: 3_600_000 };
    expect(await healFailedItems(t.db, { limit: 10, ignoreSchedule: true, budget })).toEqual([before.id]);
    await poller.pollOnce();
    const after = await itemOf(id);
    expect(after.checklist).toMatchObject({ state: 'queued', gave_up_at: null });
    expect(after.media.status).toBe('completed');
    expect(api.calls('DELETE', /cleanup/)).toHaveLength(0);
  });

  it('fails work that can never finish once its heal budget is spent, and reports it once', async () => {
    const id = addUpload();
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: '500', times: 1000 });
    const { client, poller } = connect();
    await poller.pollOnce();
    const budget = { maxHeals: 1, maxAgeMs: 30 * 86_400_000 };
    const gaveUp: number[] = [];
    // The heal backoff is not waited for here; the budget is what is tested.
    const heal = { limit: 10, ignoreSchedule: true, budget };
    await work(client, 1);
    expect(await healFailedItems(t.db, heal)).toHaveLength(1);
    await work(client, 1);
    await poller.pollOnce();
    expect(api.calls('DELETE', /cleanup/)).toHaveLength(0); // healable: not reported yet
    const onGaveUp = (ids: number[]) => gaveUp.push(...ids);
    expect(await healFailedItems(t.db, { ...heal, onGaveUp })).toHaveLength(0);
    const { id: mediaId, media, checklist } = await itemOf(id);
    expect(gaveUp).toEqual([mediaId]);
    expect(media.status).toBe('failed');
    const shown = await runCli(['show', String(mediaId)], { DATABASE_URL: t.url });
    expect(shown.stdout).toMatch(/failed for good at .*: its heal budget was spent/);
    expect(checklist.last_error).toMatch(
      /^retries exhausted: healed 1 times \(HEAL_MAX_COUNT\); last error: .*500/,
    );
    await poller.pollOnce();
    await poller.pollOnce();
    expect(api.calls('DELETE', new RegExp(`/cleanup/${id}$`))).toHaveLength(1);
    // Given up is final for the daemon's cycle (an operator's heal, without a budget, may still try).
    expect(await healFailedItems(t.db, heal)).toHaveLength(0);
    expect(gaveUp).toEqual([mediaId]);
  });

  it('cuts a trickling download at DOWNLOAD_DEADLINE_MS as transient, closing its connection', async () => {
    const id = addUpload();
    api.trickleMs = 200;
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: 'trickle', times: 1 });
    const { client, poller } = connect({ deadlineMs: 1000 });
    await poller.pollOnce();
    await work(client);
    const { id: mediaId, checklist } = await itemOf(id);
    expect(checklist).toMatchObject({ state: 'completed', retrieve_file_attempts: 2 });
    const retry = (await t
      .db('processing_events')
      .where({ media_id: mediaId, event: 'retry_scheduled' })
      .first()) as { error_class: string; message: string };
    expect(retry).toMatchObject({
      error_class: 'TRANSIENT',
      message: expect.stringMatching(/DOWNLOAD_DEADLINE_MS=1000/),
    });
    const trickled = api.requests.find((r) => r.fault === 'trickle')!;
    // The server saw the connection end (it records the status on close), long before the file was sent.
    await waitFor(() => trickled.status !== undefined, 'the trickled connection to close', 10_000);
  });

  it('refuses a pending list over PENDING_LIST_MAX_BYTES, importing nothing', async () => {
    for (let i = 0; i < 100; i++) addUpload();
    const { poller } = connect({ pendingListMaxBytes: 2048 });
    await expect(poller.pollOnce()).rejects.toThrow(
      /larger than 2048 bytes.*PENDING_LIST_MAX_BYTES|PENDING_LIST_MAX_BYTES.*2048/,
    );
    expect(await t.db('media_files').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('says one line per poll about 10,000 malformed entries, and not again while they stay the same', async () => {
    addUpload();
    for (let i = 0; i < 10_000; i++) api.rawEntries.push({ user_id: i, image_path: '/temp_images/x.jpg' });
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const { poller } = connect({ log: pino({ level: 'warn' }, sink) });
    expect(await poller.pollOnce()).toMatchObject({ imported: 1, skipped: 10_000 });
    expect(await poller.pollOnce()).toMatchObject({ imported: 0, skipped: 10_000 });
    await waitFor(() => lines.length > 0, 'the warning');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ count: 10_000, msg: expect.stringMatching(/10000/) });
  });

  it('holds every call back after a 429 (Retry-After: 0 included), doubling the wait', async () => {
    api.faults.push({ method: 'GET', path: /pending/, fault: '429:0', times: 2 });
    const { poller } = connect();
    const first = await poller.pollOnce().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(RateLimitError);
    const sent = api.requests.length;
    const second = await poller.pollOnce().catch((error: unknown) => error);
    expect(second).toBeInstanceOf(RateLimitError);
    expect(api.requests.length).toBe(sent); // held back: no request went out
    await new Promise((resolve) => setTimeout(resolve, (first as RateLimitError).retryAfterMs + 20));
    const third = (await poller.pollOnce().catch((error: unknown) => error)) as RateLimitError;
    expect(third).toBeInstanceOf(RateLimitError);
    // The wait each 429 imposed, as the gate reports it (not time elapsed): the second one doubled.
    expect(third.retryAfterMs).toBe(2 * (first as RateLimitError).retryAfterMs);
  });
});
