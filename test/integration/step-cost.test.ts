/**
 * Per-step cost in the item view (GET /api/media/:id and `show`): a real
 * main API upload (the fake main API on 127.0.0.1) through the real pipeline
 * with the local provider and a remote vision service (a real HTTP server),
 * its download and its completion each failing once with a 500 and retried;
 * a non-image that fails at retrieve; an item that never ran. Bytes are
 * checked against the stored original and the variant files on disk.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { itemDetail } from '../../src/db/item-detail.js';
import { findItemView, type ItemView } from '../../src/db/item-view.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { fakeMainApiClient, fakeMainApiPoller } from '../helpers/main-api-clients.js';
import { withPipeline } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** A vision service that answers every image with a label and its own usage figures; counts the bytes posted. */
function startVisionService() {
  const received: number[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(Buffer.concat(chunks).length);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          version: 'vision-7',
          labels: { subject_matter: { value: 'a cat', confidence: 0.9 } },
          usage: { tokens: 42, model: 'tiny-vision', nested: { dropped: true } },
        }),
      );
    });
  });
  return new Promise<{ url: string; received: number[]; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vision`,
        received,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe.each(availableDialects())('per-step cost on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let storageDir: string;
  let api: FakeMainApi;
  let vision: Awaited<ReturnType<typeof startVisionService>>;
  const cat = fs.readFileSync(SAMPLE('cat-chelsea.png'));
  const id: Record<'uploaded' | 'notImage' | 'pending', number> = { uploaded: 0, notImage: 0, pending: 0 };

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-cost-'));
    storageDir = path.join(dir, 'storage');
    api = new FakeMainApi();
    await api.start();
    vision = await startVisionService();
    api.add({ id: 7001, userId: 3, imagePath: '/temp_images/p/3-product-1704110400-7001.png', file: cat });
    // One failed attempt at the download and one at the completion, each retried.
    api.faults.push(
      { method: 'GET', path: /^\/temp_images\//, fault: '500', times: 1 },
      { method: 'POST', path: /complete/, fault: '500', times: 1 },
    );
    const notAnImage = path.join(dir, 'notes.jpg');
    fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
    id.notImage = (
      await ingestFiles(t.db, [notAnImage], { userId: 3, role: 'product', isTestData: false })
    )[0]!;
    const client = fakeMainApiClient(api);
    await fakeMainApiPoller(t.db, client).pollOnce();
    const row = (await t.db('media_files').where({ main_api_id: 7001 }).first('id')) as { id: number };
    id.uploaded = Number(row.id);
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: storageDir,
      MAIN_API_URL: api.url,
      MEDIA_API_KEY: 'k',
      ANALYSIS_PROVIDERS: 'local,remote',
      ANALYSIS_REMOTE_URL: vision.url,
    });
    // Concurrency 1: no attempt overlaps another in this process, so every one has a CPU figure.
    await withPipeline(
      config,
      t.db,
      new FsObjectStore(storageDir),
      (steps) => makeWorker(t.db, steps, { concurrency: 1, retryBaseMs: 30 }).run(),
      { mainApi: client },
    );
    id.pending = (
      await ingestFiles(t.db, [SAMPLE('coffee-cup.png')], { userId: 3, role: 'product', isTestData: false })
    )[0]!;
  });
  afterAll(async () => {
    await api.stop();
    await vision.close();
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const view = async (mediaId: number) => (await findItemView(t.db, mediaId))!;
  const step = (item: ItemView, name: string) => item.steps.find((s) => s.name === name)!;

  it('times every step that ran, with CPU when it ran alone', async () => {
    const item = await view(id.uploaded);
    expect(item.status).toBe('completed');
    for (const { name, cost } of item.steps) {
      expect(cost, name).not.toBeNull();
      expect(cost!.wall_seconds, name).toBeGreaterThan(0);
      expect(cost!.cpu_seconds, name).toBeTypeOf('number');
      expect(cost!.cpu_seconds, name).toBeGreaterThanOrEqual(0);
      expect(cost!.last.event, name).toBe('completed');
      expect(cost!.last.attempt, name).toBe(step(item, name).attempts);
    }
    expect(item.cost!.wall_seconds).toBeCloseTo(sum(item.steps.map((s) => s.cost!.wall_seconds)), 5);
    expect(item.cost!.cpu_seconds).toBeCloseTo(sum(item.steps.map((s) => s.cost!.cpu_seconds!)), 5);
  });

  it('sums every attempt: the failed download and the failed completion cost too', async () => {
    const item = await view(id.uploaded);
    for (const name of ['retrieve', 'callback']) {
      const { attempts, cost } = step(item, name);
      expect(attempts, name).toBe(2);
      expect(cost!.attempts, name).toBe(2);
      // The failed attempt's time is in the sum, beside the last (successful) attempt's.
      expect(cost!.wall_seconds, name).toBeGreaterThan(cost!.last.wall_seconds);
    }
    const detail = (await itemDetail(t.db, id.uploaded))!;
    const retries = detail.events.filter((e) => e.event === 'retry_scheduled');
    expect(retries.map((e) => e.step)).toEqual(['retrieve', 'callback']);
    for (const retry of retries) {
      expect(retry.cost).toMatchObject({ bytes_read: 0, bytes_written: 0, provider_calls: [] });
      expect(retry.cost!.wall_seconds).toBeGreaterThan(0);
    }
    // Only the events that end an attempt carry a cost.
    expect(detail.events.filter((e) => e.cost !== null).map((e) => `${e.step}:${e.event}`)).toEqual([
      'retrieve:retry_scheduled',
      'retrieve:completed',
      'analyse:completed',
      'resize:completed',
      'callback:retry_scheduled',
      'callback:completed',
    ]);
  });

  it('counts the bytes: the original stored and read once, the variants written, the completion posted', async () => {
    const item = await view(id.uploaded);
    const detail = (await itemDetail(t.db, id.uploaded))!;
    expect(detail.media.file_size).toBe(cat.length);
    const original = fs.statSync(path.join(storageDir, detail.media.bulk_path!)).size;
    expect(original).toBe(cat.length);
    expect(step(item, 'retrieve').cost).toMatchObject({ bytes_read: original, bytes_written: original });
    // Analyse decodes the original; resize reuses that decode, reading nothing again.
    expect(step(item, 'analyse').cost).toMatchObject({ bytes_read: original, bytes_written: 0 });
    const variantBytes = sum(item.variants.map((v) => v.bytes));
    const onDisk = sum(detail.variants.map((v) => fs.statSync(path.join(storageDir, v.path)).size));
    expect(variantBytes).toBe(onDisk);
    expect(step(item, 'resize').cost).toMatchObject({ bytes_read: 0, bytes_written: onDisk });
    const posts = api.calls('POST', /complete/);
    expect(posts).toHaveLength(2);
    expect(step(item, 'callback').cost).toMatchObject({
      bytes_read: 0,
      bytes_written: Buffer.byteLength(posts[1]!.body),
    });
    expect(item.cost).toMatchObject({
      bytes_read: 2 * original,
      bytes_written: original + onDisk + Buffer.byteLength(posts[1]!.body),
      provider_call_count: 2,
    });
  });

  it('lists the analysis provider calls with what each reported', async () => {
    const { cost } = step(await view(id.uploaded), 'analyse');
    expect(cost!.provider_calls).toEqual([
      {
        provider: 'local',
        outcome: 'ok',
        duration_ms: expect.any(Number),
        reported: { version: expect.any(String), fields: 9, used_models: false },
        attempt: 1,
      },
      {
        provider: 'remote',
        outcome: 'ok',
        duration_ms: expect.any(Number),
        reported: {
          version: 'vision-7',
          fields: 1,
          used_models: true,
          // What the service said about the call (scalars only), and the JPEG we posted.
          usage: {
            request_bytes: vision.received[0],
            requests: 1,
            service_usage: { tokens: 42, model: 'tiny-vision' },
          },
        },
        attempt: 1,
      },
    ]);
    expect(cost!.last.provider_calls).toHaveLength(2);
    expect(cost!.provider_calls.every((call) => call.duration_ms >= 0)).toBe(true);
  });

  it('a step that never ran has no cost; one that failed has its time', async () => {
    const failed = await view(id.notImage);
    expect(failed.status).toBe('failed');
    const retrieve = step(failed, 'retrieve');
    expect(retrieve.cost).toMatchObject({ attempts: 1, bytes_read: 0, bytes_written: 0, provider_calls: [] });
    expect(retrieve.cost!.wall_seconds).toBeGreaterThan(0);
    expect(retrieve.cost!.last.event).toBe('failed');
    for (const name of ['analyse', 'resize', 'callback']) expect(step(failed, name).cost, name).toBeNull();
    expect(failed.cost).toMatchObject({ wall_seconds: retrieve.cost!.wall_seconds, provider_call_count: 0 });

    const pending = await view(id.pending);
    expect(pending.steps.map((s) => s.cost)).toEqual([null, null, null, null]);
    expect(pending.cost).toBeNull();
  });

  it('show prints the cost per step, and --json carries the same view', async () => {
    const env = { DATABASE_URL: t.url, STORAGE_DIR: storageDir };
    const shown = await runCli(['show', String(id.uploaded)], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /step\s+state\s+attempts\s+wall s\s+cpu s\s+read\s+written\s+provider calls/,
    );
    expect(shown.stdout).toMatch(
      new RegExp(`retrieve\\s+completed\\s+2\\s+[\\d.]+\\s+[\\d.]+\\s+${cat.length}\\s+${cat.length}`),
    );
    expect(shown.stdout).toMatch(/analyse\s+completed\s+1\s+.*local ok \d+ms, remote ok \d+ms/);
    expect(shown.stdout).toMatch(/all\s+[\d.]+\s+[\d.]+\s+\d+\s+\d+/);
    const pending = await runCli(['show', String(id.pending)], env);
    expect(pending.stdout).toMatch(/analyse\s+pending\s+0\s+-\s+-\s+-\s+-/);
    const json = await runCli(['show', String(id.uploaded), '--json'], env);
    expect((JSON.parse(json.stdout) as { api: ItemView }).api).toEqual(await view(id.uploaded));
  });
});
