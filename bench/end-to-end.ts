/**
 * bench/end-to-end: 12-megapixel uploads from a fake main API through
 * `media-worker run` (real processes) on MariaDB and SQLite until the last
 * callback, at 1 and 2 worker processes, with every size made eagerly
 * (ON_DEMAND_SIZES=none: the baseline, as before on-demand sizes) and with
 * zoom on demand (the default), in the same run. Throughput: every upload
 * pending at once. Latency: uploads arriving one at a time, pending →
 * callback. After each zoom-on-demand throughput run, a `run --no-work`
 * server on the same database is asked for each item's zoom: the first
 * request renders it from the 12 MP original (its latency, p50/p95), the
 * second is a hit. BENCH_E2E_DATABASES (mariadb,sqlite) and
 * BENCH_E2E_WORKERS (1,2) narrow the matrix.
 * The system this replaces took 30–60 s per image.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase } from '../src/db/connect.js';
import { findItemView } from '../src/db/item-view.js';
import { parseDatabaseUrl } from '../src/db/database-url.js';
import { selectRenderCandidates } from '../src/db/render-candidates.js';
import { FakeMainApi } from '../test/helpers/fake-main-api.js';
import { startLocalMariadb } from '../test/helpers/local-mariadb.js';
import { CLI, freePort, start, waitFor } from '../test/helpers/processes.js';
import { SAMPLE_PHOTOS, upscaled } from './lib/inputs.js';
import { markdownTable, median, round, writeResults } from './lib/report.js';

const THROUGHPUT_UPLOADS = 12;
const LATENCY_UPLOADS = 6;
/** The daemon's default when the model packages are installed; `local` alone is the measurement-only baseline. */
const ANALYSIS_PROVIDERS = process.env.ANALYSIS_PROVIDERS ?? 'local,models';

/** Distinct 12 MP JPEGs (a different quality each, so no two share bytes and reuse cannot skip work). */
async function photos(count: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      upscaled(SAMPLE_PHOTOS[i % SAMPLE_PHOTOS.length]!, 12, 85 + (i % 10)),
    ),
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Scenario {
  databaseUrl: string;
  workers: number;
  files: Buffer[];
  arrival: 'all-at-once' | 'one-at-a-time';
  onDemandSizes: string;
}

async function runScenario(scenario: Scenario, dir: string, nextId: () => number) {
  const api = new FakeMainApi();
  await api.start();
  const env = {
    DATABASE_URL: scenario.databaseUrl,
    STORAGE_DIR: path.join(dir, 'storage'),
    MAIN_API_URL: api.url,
    MEDIA_API_KEY: 'bench',
    POLL_INTERVAL_MS: '250',
    IDLE_MAX_MS: '500',
    CONCURRENCY: '1',
    LOG_LEVEL: 'error',
    ANALYSIS_PROVIDERS,
    ON_DEMAND_SIZES: scenario.onDemandSizes,
  };
  const workers = Array.from({ length: scenario.workers }, (_, n) =>
    start(process.execPath, [CLI, 'run', '--no-serve', '--worker-id', `bench-${n}`], env),
  );
  const addedAt = new Map<number, number>();
  const add = (file: Buffer) => {
    const id = nextId();
    addedAt.set(id, Date.now());
    api.add({ id, userId: 1, imagePath: `/temp_images/p/1-product-1704110400-${id}.jpg`, file });
    return id;
  };
  const started = Date.now();
  try {
    if (scenario.arrival === 'all-at-once') for (const file of scenario.files) add(file);
    else {
      for (const file of scenario.files) {
        const id = add(file);
        await waitFor(() => !api.pending.has(id), `upload ${id}`, 120_000);
      }
    }
    await waitFor(() => api.pending.size === 0, 'every callback', 600_000);
  } finally {
    for (const worker of workers) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.finished));
    await api.stop();
  }
  const latencies = api
    .calls('POST', /complete/)
    .map((c) => (c.at - addedAt.get(Number(c.url.split('/').pop()))!) / 1000);
  const minutes = (Date.now() - started) / 60_000;
  return {
    uploadsPerMinute: scenario.files.length / minutes,
    p50: median(latencies),
    p95: percentile(latencies, 95),
    completed: latencies.length,
    // Alone, each step's attempt ran by itself in its process, so its CPU figure is recorded.
    ...(scenario.arrival === 'one-at-a-time'
      ? { steps: await stepCosts(scenario.databaseUrl, scenario.files.length) }
      : {}),
    ...(scenario.onDemandSizes === 'zoom' && scenario.arrival === 'all-at-once'
      ? { firstZoom: await firstZoomRequests(env, addedAt.size) }
      : {}),
  };
}

/** Median wall and CPU seconds of each step over the items (the runner's per-attempt record, docs/step-cost.md). */
async function stepCosts(databaseUrl: string, items: number) {
  const db = connectDatabase(parseDatabaseUrl(databaseUrl));
  try {
    const views = await Promise.all(Array.from({ length: items }, (_, i) => findItemView(db, i + 1)));
    const names = views[0]?.steps.map((step) => step.name) ?? [];
    return Object.fromEntries(
      names.map((name) => {
        const costs = views.map((view) => view?.steps.find((step) => step.name === name)?.cost);
        const wall = costs.flatMap((cost) => (cost ? [cost.wall_seconds] : []));
        const cpu = costs.flatMap((cost) => (cost?.cpu_seconds != null ? [cost.cpu_seconds] : []));
        return [name, { wall: wall.length ? median(wall) : null, cpu: cpu.length ? median(cpu) : null }];
      }),
    );
  } finally {
    await db.destroy();
  }
}

/**
 * Each item's zoom (WebP, as a browser asking for it would get), asked of a
 * `run --no-work` server one item at a time: the first request renders it
 * from the 12 MP original, the second is a hit. Seconds until the whole body.
 */
async function firstZoomRequests(env: Record<string, string>, items: number) {
  const port = await freePort();
  const server = start(process.execPath, [CLI, 'run', '--no-work', '--http-port', String(port)], env);
  const base = `http://127.0.0.1:${port}`;
  const timed = async (url: string) => {
    const begun = performance.now();
    const response = await fetch(url, { headers: { accept: 'image/webp,*/*' } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    return (performance.now() - begun) / 1000;
  };
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok === true, 'server');
    const first: number[] = [];
    const hit: number[] = [];
    const db = connectDatabase(parseDatabaseUrl(env.DATABASE_URL!));
    const ids = await selectRenderCandidates(db, {}, 0, items).finally(() => db.destroy());
    for (const id of ids) {
      first.push(await timed(`${base}/serve/${id}?size=zoom&format=webp`));
      hit.push(await timed(`${base}/serve/${id}?size=zoom&format=webp`));
    }
    return {
      requests: first.length,
      firstP50: median(first),
      firstP95: percentile(first, 95),
      hitP50: median(hit),
    };
  } finally {
    server.child.kill('SIGTERM');
    await server.finished;
  }
}

type StepCosts = Record<string, { wall: number | null; cpu: number | null }>;

function stepSummary(steps: StepCosts | undefined): string {
  if (!steps) return '-';
  const figure = (value: number | null) => (value === null ? '?' : round(value, 2));
  return Object.entries(steps)
    .map(([name, { wall, cpu }]) => `${name} ${figure(wall)} / ${figure(cpu)}`)
    .join(', ');
}

export async function benchEndToEnd(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-e2e-bench-'));
  const server = await startLocalMariadb();
  const files = await photos(THROUGHPUT_UPLOADS);
  let id = 1;
  const rows: Array<Record<string, unknown>> = [];
  try {
    const kinds = (process.env.BENCH_E2E_DATABASES ?? 'mariadb,sqlite').split(',');
    const workerCounts = (process.env.BENCH_E2E_WORKERS ?? '1,2').split(',').map(Number);
    for (const dbKind of kinds.filter((kind) => kind === 'sqlite' || server)) {
      for (const workers of workerCounts) {
        for (const onDemandSizes of ['none', 'zoom']) {
          for (const arrival of ['all-at-once', 'one-at-a-time'] as const) {
            const name = `mw_e2e_${dbKind}_${workers}_${onDemandSizes}_${arrival.replaceAll('-', '_')}`;
            let databaseUrl = `sqlite:${path.join(dir, `${name}.sqlite`)}`;
            if (dbKind === 'mariadb') {
              const admin = connectDatabase(parseDatabaseUrl(server!.url));
              await admin.raw(`CREATE DATABASE ${name}`);
              await admin.destroy();
              databaseUrl = server!.url.replace(/\/[^/]*$/, `/${name}`);
            }
            const chosen = arrival === 'all-at-once' ? files : files.slice(0, LATENCY_UPLOADS);
            const result = await runScenario(
              { databaseUrl, workers, files: chosen, arrival, onDemandSizes },
              path.join(dir, name),
              () => id++,
            );
            rows.push({
              database: dbKind,
              workers,
              onDemandSizes,
              arrival,
              uploads: chosen.length,
              ...result,
            });
          }
        }
      }
    }
  } finally {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const baseline = (row: Record<string, unknown>) =>
    rows.find(
      (r) =>
        r.database === row.database &&
        r.workers === row.workers &&
        r.arrival === row.arrival &&
        r.onDemandSizes === 'none',
    )!;
  const table = markdownTable(
    [
      'database',
      'worker processes',
      'ON_DEMAND_SIZES',
      'arrival',
      'uploads',
      'uploads/min',
      '× eager baseline',
      'p50 s',
      'p95 s',
      'first zoom p50 / p95 s',
      'zoom hit p50 s',
      'alone: step wall / CPU s (median)',
    ],
    rows.map((r) => {
      const zoom = r.firstZoom as { firstP50: number; firstP95: number; hitP50: number } | undefined;
      return [
        r.database as string,
        r.workers as number,
        r.onDemandSizes as string,
        r.arrival as string,
        r.uploads as number,
        round(r.uploadsPerMinute as number, 1),
        round((r.uploadsPerMinute as number) / (baseline(r).uploadsPerMinute as number)),
        round(r.p50 as number),
        round(r.p95 as number),
        zoom ? `${round(zoom.firstP50)} / ${round(zoom.firstP95)}` : '-',
        zoom ? round(zoom.hitP50, 3) : '-',
        stepSummary(r.steps as StepCosts | undefined),
      ];
    }),
  );
  writeResults(
    ANALYSIS_PROVIDERS === 'local,models'
      ? 'end-to-end'
      : `end-to-end-${ANALYSIS_PROVIDERS.replace(/,/g, '-')}`,
    rows,
    `## end-to-end (12 MP JPEG product uploads, fake main API → callback, ANALYSIS_PROVIDERS=${ANALYSIS_PROVIDERS}, POLL_INTERVAL_MS=250)\n\n${table}`,
  );
}
