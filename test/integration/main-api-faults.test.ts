/**
 * The main API misbehaving: 500s, 429 with Retry-After, answers slower than
 * the timeout, a connection dropped mid-download, 401. Real fake server on
 * 127.0.0.1, real worker loop and database; every upload must end completed
 * or correctly failed, with attempts counted as CONTRACT.md §5 says.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, retentionPolicy } from '../../src/config.js';
import { findChecklist } from '../../src/db/records.js';
import { AuthError } from '../../src/errors.js';
import { MainApiAuthState } from '../../src/intake/main-api-auth.js';
import { MainApiClient } from '../../src/intake/main-api-client.js';
import { retryAfterMs } from '../../src/intake/main-api-rate-limit.js';
import { MainApiPoller } from '../../src/intake/main-api-poller.js';
import { silentLogger } from '../../src/log.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

describe('main API faults', () => {
  let t: TestDatabase;
  let dir: string;
  let api: FakeMainApi;
  let auth: MainApiAuthState;
  let nextId = 1000;
  /** The client `connect` made last. */
  let lastClient: MainApiClient | undefined;
  const cat = fs.readFileSync(SAMPLE('cat-chelsea.png'));

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-faults-'));
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    api = new FakeMainApi();
    await api.start();
    auth = new MainApiAuthState(silentLogger(), 300);
  });
  afterEach(async () => {
    await api.stop();
  });

  function addUpload(): number {
    const id = nextId++;
    api.add({ id, userId: 3, imagePath: `/temp_images/p/3-product-1704110400-${id}.png`, file: cat });
    return id;
  }

  /** A client and poller against the fake main API, sharing the test's auth state. */
  function connect(timeoutMs = 2000, log?: Logger): { client: MainApiClient; poller: MainApiPoller } {
    const client = new MainApiClient({
      ...(log ? { log } : {}),
      baseUrl: api.url,
      apiKey: 'k',
      timeoutMs,
      downloadDeadlineMs: 10_000,
      maxUploadBytes: 5_242_880,
      pendingListMaxBytes: 8 * 2 ** 20,
      auth,
    });
    lastClient = client;
    const poller = new MainApiPoller({
      db: t.db,
      client,
      log: silentLogger(),
      pollIntervalMs: 50,
      idleMaxMs: 200,
      onNewWork: () => undefined,
      retention: retentionPolicy(loadConfig({})),
    });
    return { client, poller };
  }

  /** One poll, then the worker until the queue is empty, then a poll for the failure reports. */
  async function process(timeoutMs = 2000, log?: Logger): Promise<void> {
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      MAIN_API_URL: api.url,
      MEDIA_API_KEY: 'k',
      MAIN_API_TIMEOUT_MS: String(timeoutMs),
      GONE_CONFIRM_MS: '50',
    });
    const { client, poller } = connect(timeoutMs, log);
    await poller.pollOnce();
    await withPipeline(
      config,
      t.db,
      new FsObjectStore(config.storageDir),
      (steps) => makeWorker(t.db, steps, { maxAttempts: 4, retryBaseMs: 30, authPauseMs: 300 }).run(),
      { mainApi: client },
    );
    await poller.pollOnce();
  }

  async function checklistOf(mainApiId: number) {
    const row = (await t.db('media_files').where({ main_api_id: mainApiId }).first('id')) as { id: number };
    return (await findChecklist(t.db, Number(row.id)))!;
  }

  it('retries 500s on download and on complete, counting each attempt, then completes', async () => {
    const id = addUpload();
    api.faults.push(
      { method: 'GET', path: /^\/temp_images\//, fault: '500', times: 2 },
      { method: 'POST', path: /complete/, fault: '500', times: 1 },
    );
    await process();
    expect(await checklistOf(id)).toMatchObject({
      state: 'completed',
      retrieve_file_attempts: 3,
      update_callback_attempts: 2,
    });
    expect(api.calls('POST', /complete/)).toHaveLength(2);
  });

  it('honours 429 Retry-After without burning attempts', async () => {
    const id = addUpload();
    api.faults.push({ method: 'POST', path: /complete/, fault: '429', times: 2 });
    // The gate as the client reports it, read the moment it logs that a 429 closed it.
    const gates: { waitMs: number; heldUntil: number }[] = [];
    const log = pino(
      { level: 'warn' },
      {
        write(line: string) {
          const { waitMs } = JSON.parse(line) as { waitMs?: number };
          if (waitMs !== undefined) gates.push({ waitMs, heldUntil: lastClient!.heldUntilMs() });
        },
      },
    );
    await process(2000, log);
    expect(await checklistOf(id)).toMatchObject({ state: 'completed', update_callback_attempts: 1 });
    const posts = api.calls('POST', /complete/);
    expect(posts).toHaveLength(3);
    // Each 429 closed the client's gate for the Retry-After (1 s: exactly 1000 ms the first time) …
    expect(gates.map((g) => g.waitMs)).toEqual([1000, expect.any(Number)]);
    expect(gates[1]!.waitMs).toBeGreaterThanOrEqual(1000);
    // … and the next POST reached the server (by its own clock) only once that gate had opened.
    expect(posts[1]!.at).toBeGreaterThanOrEqual(gates[0]!.heldUntil);
    expect(posts[2]!.at).toBeGreaterThanOrEqual(gates[1]!.heldUntil);
    expect(retryAfterMs('120')).toBe(120_000);
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(retryAfterMs(new Date(now + 5000).toUTCString(), now)).toBe(5000);
  });

  it('treats an answer slower than the timeout as transient', async () => {
    const id = addUpload();
    api.slowMs = 1500;
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: 'slow', times: 1 });
    await process(300);
    const checklist = await checklistOf(id);
    expect(checklist).toMatchObject({ state: 'completed', retrieve_file_attempts: 2 });
    const retry = (await t
      .db('processing_events')
      .where({ media_id: checklist.media_id, event: 'retry_scheduled' })
      .first()) as { error_class: string; message: string };
    expect(retry.error_class).toBe('TRANSIENT');
    expect(retry.message).toMatch(/timeout|ECONNABORTED/i);
  });

  it('retries a download whose connection dropped mid-body, leaving no partial file visible', async () => {
    const id = addUpload();
    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: 'drop', times: 1 });
    await process();
    const checklist = await checklistOf(id);
    expect(checklist).toMatchObject({ state: 'completed', retrieve_file_attempts: 2 });
    const bulkFiles = fs.readdirSync(path.join(dir, 'storage', 'bulk'), { recursive: true }) as string[];
    expect(bulkFiles.filter((f) => path.basename(f).startsWith('.tmp-'))).toEqual([]);
  });

  it('pauses on 401 without burning attempts, fails readiness meanwhile, and recovers', async () => {
    const id = addUpload();
    api.faults.push({ method: 'GET', path: /pending/, fault: '401', times: 1 });
    const { poller } = connect();
    await expect(poller.pollOnce()).rejects.toBeInstanceOf(AuthError);
    expect(auth.currentProblem()).toMatch(/answered 401 to the pending list: check MEDIA_API_KEY/);
    // While paused, no call goes out at all.
    const before = api.requests.length;
    await expect(poller.pollOnce()).rejects.toThrow(/paused/);
    expect(api.requests.length).toBe(before);

    api.faults.push({ method: 'GET', path: /^\/temp_images\//, fault: '401', times: 1 });
    await new Promise((resolve) => setTimeout(resolve, 350));
    await process();
    expect(auth.currentProblem()).toBeUndefined();
    expect(await checklistOf(id)).toMatchObject({ state: 'completed', retrieve_file_attempts: 1 });
    const released = (await t
      .db('processing_events')
      .where({ event: 'released' })
      .pluck('message')) as string[];
    expect(released.some((m) => /main API refused our key/.test(m))).toBe(true);
  });

  it('reconciles: a lost callback is re-sent alone; absence from the list alone fails nothing', async () => {
    const lost = addUpload();
    await process();
    const first = await checklistOf(lost);
    expect(first.state).toBe('completed');
    // The main API lost our callback: the upload is listed as pending again, long after completion.
    api.add({ id: lost, userId: 3, imagePath: `/temp_images/p/3-product-1704110400-${lost}.png`, file: cat });
    await t
      .db('media_files')
      .where({ main_api_id: lost })
      .update({ completed_at: Date.now() - 120_000, callback_reported_at: Date.now() - 120_000 });
    const vanished = addUpload();
    const { poller } = connect();
    const firstPoll = await poller.pollOnce();
    expect(firstPoll).toMatchObject({ imported: 1, callbacksResent: 1 });
    expect(
      (await t.db('media_files').where({ main_api_id: lost }).first('status')) as { status: string },
    ).toEqual({ status: 'completed' });
    // Gone from the list before retrieval: a glitchy list must not fail it; only its file can say so.
    api.pending.delete(vanished);
    expect(await poller.pollOnce()).toMatchObject({ failuresReported: 0, callbacksResent: 0 });
    expect(await checklistOf(vanished)).toMatchObject({ state: 'queued', retrieve_file: 'pending' });
    expect(api.calls('DELETE', new RegExp(`/cleanup/${vanished}$`))).toHaveLength(0);
    api.files.delete(`/temp_images/p/3-product-1704110400-${vanished}.png`);

    await process();
    const after = await checklistOf(lost);
    expect(after).toMatchObject({
      state: 'completed',
      retrieve_file_attempts: 1,
      resize_optimize_attempts: 1,
      update_callback_attempts: 1,
    });
    expect(api.calls('POST', new RegExp(`/complete/${lost}$`))).toHaveLength(2);
    expect(api.calls('GET', new RegExp(`-${lost}\\.png$`))).toHaveLength(1);
    expect(api.pending.has(lost)).toBe(false);
    // Its file answered 404, asked twice: now it is gone for good, reported once.
    expect(await checklistOf(vanished)).toMatchObject({ state: 'failed', last_error_class: 'GONE' });
    expect(api.calls('GET', new RegExp(`-${vanished}\\.png$`))).toHaveLength(2);
    expect(api.calls('DELETE', new RegExp(`/cleanup/${vanished}$`))).toHaveLength(1);
  });
});
