/**
 * Serve: wrk against /serve/:id?size=grid&format=webp of real
 * `media-worker run --no-work` processes, one per storage, the same items and
 * database: a directory (the baseline), a bucket on moto with the
 * read-through cache warm, and the bucket with SERVE_CACHE_MB=0 (every
 * request a GetObject). Interleaved rounds, so drift hits every contender.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CLI, freePort, start } from '../../test/helpers/processes.js';
import { cpuMs, machineBusyMs } from '../lib/process-cpu.js';
import { median, round } from '../lib/report.js';
import { runWrk, type WrkResult } from '../lib/wrk.js';
import type { BucketServer } from './bucket-server.js';
import type { ServedItems } from './served-items.js';

const ROUNDS = Number(process.env.BENCH_STORAGE_SERVE_ROUNDS ?? 3);
const DURATION_S = 5;
const CONNECTIONS = 32;

interface Contender {
  name: string;
  env: Record<string, string>;
  usesBucket: boolean;
}

interface Measured extends WrkResult {
  serverCpuPercent: number;
  motoCpuPercent: number;
  machineBusyPercent: number;
}

export interface ServeRow {
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  vsFs: number;
  serverCpuPercent: number;
  motoCpuPercent: number;
  machineBusyPercent: number;
  errors: number;
}

async function startServer(contender: Contender, dir: string, items: ServedItems) {
  const database = path.join(dir, `${contender.name.replace(/\W+/g, '-')}.sqlite`);
  fs.copyFileSync(items.databaseFile, database);
  const port = await freePort();
  const server = start(process.execPath, [CLI, 'run', '--no-work', '--http-port', String(port)], {
    ...contender.env,
    DATABASE_URL: `sqlite:${database}`,
    LOG_LEVEL: 'warn',
  });
  const origin = `http://127.0.0.1:${port}`;
  const paths = items.mediaIds.map((id) => `/serve/${id}?size=grid&format=webp`);
  // Ready, and every path answered twice: the second a cache hit where there is a cache.
  for (let attempt = 0; attempt < 200; attempt++) {
    if (
      await fetch(`${origin}${paths[0]}`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (server.child.exitCode !== null)
      throw new Error(`${contender.name} exited: ${(await server.finished).stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const p of [...paths, ...paths]) {
    const response = await fetch(`${origin}${p}`);
    if (!response.ok) throw new Error(`${contender.name} ${p}: ${response.status}`);
    await response.arrayBuffer();
  }
  return { origin, paths, pid: server.child.pid!, stop: () => server.child.kill('SIGTERM'), server };
}

async function measure(
  server: Awaited<ReturnType<typeof startServer>>,
  bucket: BucketServer,
): Promise<Measured> {
  const before = {
    server: cpuMs(server.pid),
    moto: bucket.cpuMs(),
    machine: machineBusyMs(),
    at: Date.now(),
  };
  const result = await runWrk({
    origin: server.origin,
    paths: server.paths,
    connections: CONNECTIONS,
    durationSeconds: DURATION_S,
  });
  const elapsedMs = Date.now() - before.at;
  const percent = (ms: number) => round((100 * ms) / elapsedMs, 0);
  return {
    ...result,
    serverCpuPercent: percent(cpuMs(server.pid) - before.server),
    motoCpuPercent: percent(bucket.cpuMs() - before.moto),
    machineBusyPercent: percent(machineBusyMs() - before.machine),
  };
}

export async function benchServeStorage(
  dir: string,
  items: ServedItems,
  bucket: BucketServer,
  bucketName: string,
): Promise<ServeRow[]> {
  const s3 = { ...bucket.env(bucketName), SCRATCH_DIR: path.join(dir, 'scratch') };
  const contenders: Contender[] = [
    { name: 'fs (baseline)', env: { STORAGE_URL: `fs:${items.fsStore.root}` }, usesBucket: false },
    {
      name: 's3 on moto, cache warm',
      env: { ...s3, SERVE_CACHE_DIR: path.join(dir, 'serve-cache'), SERVE_CACHE_MB: '256' },
      usesBucket: true,
    },
    {
      name: 's3 on moto, no cache (SERVE_CACHE_MB=0)',
      env: { ...s3, SERVE_CACHE_MB: '0' },
      usesBucket: true,
    },
  ];
  const servers = [];
  try {
    for (const contender of contenders) servers.push(await startServer(contender, dir, items));
    const runs: Measured[][] = contenders.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, server] of servers.entries()) runs[i]!.push(await measure(server, bucket));
    }
    const medianOf = (i: number, pick: (m: Measured) => number) => median(runs[i]!.map(pick));
    const fsRps = medianOf(0, (m) => m.requestsPerSecond);
    return contenders.map((contender, i) => ({
      scenario: contender.name,
      requestsPerSecond: round(
        medianOf(i, (m) => m.requestsPerSecond),
        0,
      ),
      p50Ms: round(
        medianOf(i, (m) => m.p50Ms),
        1,
      ),
      p99Ms: round(
        medianOf(i, (m) => m.p99Ms),
        1,
      ),
      vsFs: round(medianOf(i, (m) => m.requestsPerSecond) / fsRps),
      serverCpuPercent: medianOf(i, (m) => m.serverCpuPercent),
      motoCpuPercent: contender.usesBucket ? medianOf(i, (m) => m.motoCpuPercent) : 0,
      machineBusyPercent: medianOf(i, (m) => m.machineBusyPercent),
      errors: runs[i]!.reduce((sum, m) => sum + m.errorStatus + m.socketErrors, 0),
    }));
  } finally {
    for (const server of servers) server.stop();
    await Promise.all(servers.map((s) => s.server.finished));
  }
}
