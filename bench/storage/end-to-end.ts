/**
 * End to end: the same uploads (distinct 12 MP JPEGs made from the sample
 * photos, as bench/end-to-end makes them) from a fake main API through one
 * real `media-worker run --no-serve` until the last callback, once with a
 * directory and once with a bucket on moto, in ABBA order. Each run has its
 * own SQLite database and store; the clock starts when the worker is
 * already polling, so start-up (and its storage check) is not counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FakeMainApi } from '../../test/helpers/fake-main-api.js';
import { CLI, start, waitFor } from '../../test/helpers/processes.js';
import { cpuMs } from '../lib/process-cpu.js';
import { median, round } from '../lib/report.js';
import type { BucketServer } from './bucket-server.js';

const ROUNDS = Number(process.env.BENCH_STORAGE_E2E_ROUNDS ?? 2);
const CONCURRENCY = '2';

export interface EndToEndRow {
  store: string;
  uploads: number;
  uploadsPerMinute: number;
  runs: number[];
  vsFs: number;
  p50Seconds: number;
  workerCpuMsPerUpload: number;
  motoCpuMsPerUpload: number;
  failed: number;
}

interface Run {
  uploadsPerMinute: number;
  p50Seconds: number;
  workerCpuMs: number;
  motoCpuMs: number;
  failed: number;
}

async function runOnce(
  storageEnv: Record<string, string>,
  dir: string,
  files: Buffer[],
  bucket: BucketServer,
  nextId: () => number,
): Promise<Run> {
  fs.mkdirSync(dir, { recursive: true });
  const api = new FakeMainApi();
  await api.start();
  const worker = start(process.execPath, [CLI, 'run', '--no-serve', '--worker-id', 'bench-storage'], {
    ...storageEnv,
    DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
    SCRATCH_DIR: path.join(dir, 'scratch'),
    MAIN_API_URL: api.url,
    MEDIA_API_KEY: 'bench',
    POLL_INTERVAL_MS: '250',
    IDLE_MAX_MS: '500',
    CONCURRENCY,
    LOG_LEVEL: 'error',
    ANALYSIS_PROVIDERS: 'local',
  });
  try {
    await waitFor(() => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited at start-up`);
      return api.calls('GET', /pending/).length > 0;
    }, 'the worker to poll');
    const addedAt = new Map<number, number>();
    const motoBefore = bucket.cpuMs();
    const workerBefore = cpuMs(worker.child.pid!);
    const started = Date.now();
    for (const file of files) {
      const id = nextId();
      addedAt.set(id, Date.now());
      api.add({ id, userId: 1, imagePath: `/temp_images/p/1-product-1704110400-${id}.jpg`, file });
    }
    await waitFor(() => api.pending.size === 0, 'every callback', 300_000);
    const minutes = (Date.now() - started) / 60_000;
    const completes = api.calls('POST', /complete/).filter((c) => c.status === 200);
    const latencies = completes.map((c) => (c.at - addedAt.get(Number(c.url.split('/').pop()))!) / 1000);
    return {
      uploadsPerMinute: files.length / minutes,
      p50Seconds: median(latencies),
      workerCpuMs: cpuMs(worker.child.pid!) - workerBefore,
      motoCpuMs: bucket.cpuMs() - motoBefore,
      failed: files.length - completes.length,
    };
  } finally {
    worker.child.kill('SIGTERM');
    const finished = await worker.finished;
    await api.stop();
    if (finished.code !== 0 && finished.signal === null && finished.stderr) console.error(finished.stderr);
  }
}

export async function benchEndToEndStorage(
  dir: string,
  files: Buffer[],
  bucket: BucketServer,
): Promise<EndToEndRow[]> {
  let id = 1;
  const nextId = () => id++;
  const runs: Record<'fs' | 's3', Run[]> = { fs: [], s3: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? (['fs', 's3'] as const) : (['s3', 'fs'] as const)) {
      const runDir = path.join(dir, `e2e-${kind}-${r}`);
      let storageEnv: Record<string, string> = { STORAGE_URL: `fs:${path.join(runDir, 'storage')}` };
      if (kind === 's3') {
        const name = `bench-e2e-${r}`;
        await bucket.createBucket(name, path.join(dir, 'scratch'));
        storageEnv = bucket.env(name);
      }
      runs[kind].push(await runOnce(storageEnv, runDir, files, bucket, nextId));
    }
  }
  const fsRate = median(runs.fs.map((r) => r.uploadsPerMinute));
  return (['fs', 's3'] as const).map((kind) => {
    const all = runs[kind];
    const rate = median(all.map((r) => r.uploadsPerMinute));
    const perUpload = (pick: (r: Run) => number) => round(median(all.map(pick)) / files.length, 0);
    return {
      store: kind === 'fs' ? 'fs (baseline)' : 's3 on moto',
      uploads: files.length,
      uploadsPerMinute: round(rate, 1),
      runs: all.map((r) => round(r.uploadsPerMinute, 1)),
      vsFs: round(rate / fsRate),
      p50Seconds: round(median(all.map((r) => r.p50Seconds)), 1),
      workerCpuMsPerUpload: perUpload((r) => r.workerCpuMs),
      motoCpuMsPerUpload: kind === 'fs' ? 0 : perUpload((r) => r.motoCpuMs),
      failed: all.reduce((sum, r) => sum + r.failed, 0),
    };
  });
}
