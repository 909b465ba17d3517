/**
 * The HTTP API end to end, against a spawned `media-worker run` (real
 * process, real SQLite, real storage directory, a real vision service on
 * 127.0.0.1): an upload submitted over HTTP is tracked through its states
 * while it is processed — the vision service holds its answer, so the item
 * is seen `analysing` for certain, not by luck of timing — to `completed`,
 * with the remote provider's call in the cost; every srcset url of its
 * manifest answers 200 with an image of the width it claims; and the
 * process stops cleanly on SIGTERM.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITEM_STATUSES, type ItemView } from '../../src/db/item-view.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { CLI, freePort, start, waitFor, type Finished } from '../helpers/processes.js';

const KEY = 'platform-key-0123456789';
const auth = { Authorization: `Bearer ${KEY}` };

/** A vision service whose answers wait until release() is called. */
function startHeldVisionService() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      calls++;
      void released.then(() => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({
            version: 'held-1',
            labels: { subject_matter: { value: 'a cat', confidence: 0.9 } },
          }),
        );
      });
    });
  });
  return new Promise<{ url: string; release: () => void; calls: () => number; close: () => Promise<void> }>(
    (resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vision`,
          release,
          calls: () => calls,
          close: () => new Promise((done) => server.close(() => done())),
        }),
      ),
  );
}

/**
 * Spawns `media-worker run` on a directory's SQLite file and storage, with the
 * local and remote providers (the remote one at `visionUrl`), one item at a
 * time and quick polling, and waits until it serves.
 */
async function startWorker(dir: string, visionUrl: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const worker = start(process.execPath, [CLI, 'run'], {
    DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
    STORAGE_DIR: path.join(dir, 'storage'),
    HTTP_PORT: String(port),
    MEDIA_API_KEY: KEY,
    ANALYSIS_PROVIDERS: 'local,remote',
    ANALYSIS_REMOTE_URL: visionUrl,
    CONCURRENCY: '1',
    POLL_INTERVAL_MS: '100',
    IDLE_MAX_MS: '200',
    ...extra,
  });
  const url = `http://127.0.0.1:${port}`;
  const serving = () =>
    fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  await waitFor(serving, 'the worker to serve', 30_000);
  return { worker, url };
}

/** Submits a sample as a form; the new item's id. */
async function submitSample(url: string, sample: string): Promise<number> {
  const form = new FormData();
  form.append('user_id', '7');
  form.append('role', 'product');
  form.append('file', new Blob([fs.readFileSync(SAMPLE(sample))]), sample);
  const submitted = await fetch(`${url}/api/media`, { method: 'POST', headers: auth, body: form });
  expect(submitted.status).toBe(202);
  const answer = (await submitted.json()) as { media_id: number; status_url: string };
  expect(answer.status_url).toBe(`/api/media/${answer.media_id}`);
  return answer.media_id;
}

describe('the HTTP API against a running worker', () => {
  let dir: string;
  let base: string;
  let vision: Awaited<ReturnType<typeof startHeldVisionService>>;
  let worker: ReturnType<typeof start>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-http-e2e-'));
    vision = await startHeldVisionService();
    ({ worker, url: base } = await startWorker(dir, vision.url, { ANALYSIS_REMOTE_TIMEOUT_MS: '60000' }));
  });
  afterAll(async () => {
    vision.release();
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker.finished;
    await vision.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function status(id: number): Promise<ItemView> {
    const response = await fetch(`${base}/api/media/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    return (await response.json()) as ItemView;
  }

  it('tracks a submitted upload through its states to completed, its manifest urls answering what they claim', async () => {
    const id = await submitSample(base, 'cat-chelsea.png');

    const seen: string[] = [];
    const note = (view: ItemView) => {
      if (seen.at(-1) !== view.status) seen.push(view.status);
    };
    // The vision service holds its answer: the item must reach analysing and stay there.
    await waitFor(
      async () => (note(await status(id)), vision.calls() === 1),
      'the remote analysis call',
      60_000,
    );
    const analysing = await status(id);
    note(analysing);
    expect(analysing.status).toBe('analysing');
    expect(analysing.steps.map((step) => [step.name, step.status])).toEqual([
      ['retrieve', 'completed'],
      ['analyse', 'pending'],
      ['resize', 'pending'],
      ['callback', 'pending'],
    ]);
    expect(analysing.steps[0]!.cost!.bytes_written).toBe(fs.statSync(SAMPLE('cat-chelsea.png')).size);
    expect(analysing.steps[1]!.started_at).not.toBeNull();

    vision.release();
    await waitFor(async () => (note(await status(id)), seen.at(-1) === 'completed'), 'completed', 60_000);
    // Only forward: the states seen are in the order of the state machine.
    const order = seen.map((name) => ITEM_STATUSES.indexOf(name as (typeof ITEM_STATUSES)[number]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(seen).toContain('analysing');
    const done = await status(id);
    expect(done.failure).toBeNull();
    expect(done.steps.find((step) => step.name === 'callback')!.status).toBe('skipped');
    const analyse = done.steps.find((step) => step.name === 'analyse')!;
    expect(analyse.cost!.provider_calls.map((call) => [call.provider, call.outcome])).toEqual([
      ['local', 'ok'],
      ['remote', 'ok'],
    ]);

    const manifest = (await (await fetch(`${base}/api/media/${id}/manifest`, { headers: auth })).json()) as {
      srcset: Record<string, string>;
    };
    const candidates = Object.entries(manifest.srcset).flatMap(([format, srcset]) =>
      srcset.split(', ').map((entry) => {
        const [url, width] = entry.split(' ');
        return { format, url: url!, width: Number(width!.replace(/w$/, '')) };
      }),
    );
    expect(new Set(candidates.map((c) => c.format))).toEqual(new Set(['avif', 'webp', 'jpeg']));
    for (const { format, url, width } of candidates) {
      const response = await fetch(`${base}${url}`);
      expect(response.status, url).toBe(200);
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect(meta.width, url).toBe(width);
      expect(meta.format === 'heif' ? 'avif' : meta.format, url).toBe(format);
    }
  });

  it('stops on SIGTERM with exit 0', async () => {
    worker.child.kill('SIGTERM');
    const finished: Finished = await worker.finished;
    expect(finished.code, finished.stderr).toBe(0);
  });
});

describe('SIGTERM while a provider call hangs', () => {
  let dir: string;
  let vision: Awaited<ReturnType<typeof startHeldVisionService>>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-http-e2e-'));
    vision = await startHeldVisionService();
  });
  afterAll(async () => {
    vision.release();
    await vision.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The remote call outlasts the test unless the abort at the end of the grace ends it. */
  const HANGING = { ANALYSIS_REMOTE_TIMEOUT_MS: '600000', SHUTDOWN_GRACE_MS: '1000' };

  it('exits after its grace, releases the item unanalysed, and the next worker analyses it whole', async () => {
    const first = await startWorker(dir, vision.url, HANGING);
    const id = await submitSample(first.url, 'coffee-cup.png');
    await waitFor(() => vision.calls() === 1, 'the remote analysis call', 60_000);

    first.worker.child.kill('SIGTERM');
    const stopped = await first.worker.finished;
    expect(stopped.code, stopped.stderr).toBe(0);

    vision.release();
    const second = await startWorker(dir, vision.url, HANGING);
    try {
      let view: ItemView | undefined;
      await waitFor(
        async () => {
          const response = await fetch(`${second.url}/api/media/${id}`, { headers: auth });
          view = (await response.json()) as ItemView;
          return view.status === 'completed';
        },
        'the item to complete under the second worker',
        60_000,
      );
      const analyse = view!.steps.find((step) => step.name === 'analyse')!;
      expect(analyse.status).toBe('completed');
      // The interrupted attempt was given back, not counted as a failure, and the remote provider answered the retry.
      expect(analyse.cost!.last.provider_calls.map((call) => [call.provider, call.outcome])).toEqual([
        ['local', 'ok'],
        ['remote', 'ok'],
      ]);
      expect(view!.failure).toBeNull();
    } finally {
      second.worker.child.kill('SIGTERM');
      await second.worker.finished;
    }
  });
});
