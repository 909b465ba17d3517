/**
 * bench/memory: peak RSS, and RSS growth between image 200 and 1,000 (a
 * leak or fragmentation check), with glibc malloc (as is, and with two
 * arenas) and with jemalloc (Debian libjemalloc2, as the systemd unit
 * preloads it) in the same run; plus peak RSS at concurrency 2 with
 * 24-megapixel inputs; plus six 10000×10000 inputs at concurrency 2 (the
 * decoders that hold the whole input among them, bench/lib/huge-inputs.ts):
 * peak RSS, RSS right after, after 12 s idle, and after a forced GC and 12 s
 * more, with the allocator settings an operator can choose.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hugeInputs } from './lib/huge-inputs.js';
import { SAMPLE_PHOTOS, upscaled } from './lib/inputs.js';
import { BENCH_DIR, markdownTable, round, writeResults } from './lib/report.js';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

interface MemoryRun {
  seconds: number;
  peakRssMb: number;
  rssAt200Mb: number;
  rssAtEndMb: number;
  rssAfterWorkMb: number;
  rssIdleMb: number;
  rssIdleAfterGcMb: number;
  samplesEvery50: number[];
}

const ALLOCATORS: Record<string, Record<string, string>> = {
  glibc: {},
  'glibc, MALLOC_ARENA_MAX=2': { MALLOC_ARENA_MAX: '2' },
  jemalloc: { LD_PRELOAD: JEMALLOC },
};

/**
 * For the huge inputs: the baseline without a budget (every operation at
 * once, as if IMAGE_MEMORY_MB were unbounded), then the allocator settings,
 * including those that give memory back when the work is done.
 */
const NO_BUDGET = { IMAGE_MEMORY_MB: '1000000' };
const IDLE_ALLOCATORS: Record<string, Record<string, string>> = {
  'glibc, no budget': NO_BUDGET,
  'jemalloc, no budget': { ...NO_BUDGET, LD_PRELOAD: JEMALLOC },
  ...ALLOCATORS,
  'glibc, MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576': {
    MALLOC_ARENA_MAX: '2',
    MALLOC_MMAP_THRESHOLD_: '1048576',
  },
  'jemalloc, MALLOC_CONF=background_thread:true': {
    LD_PRELOAD: JEMALLOC,
    MALLOC_CONF: 'background_thread:true',
  },
};
const IDLE_MS = 12_000;

function run(
  count: number,
  concurrency: number,
  inputs: string[],
  settings: Record<string, string>,
  idleMs = 0,
): MemoryRun {
  const env = { ...process.env, ...settings, IDLE_MS: String(idleMs) };
  const stdout = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      path.join(BENCH_DIR, 'memory-child.ts'),
      String(count),
      String(concurrency),
      ...inputs,
    ],
    { encoding: 'utf8', env, maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as MemoryRun;
}

export async function benchMemory(): Promise<void> {
  await benchHugeInputs();
  // The huge inputs alone (a few minutes instead of an hour): BENCH_MEMORY_ONLY=huge.
  if (process.env.BENCH_MEMORY_ONLY === 'huge') return;
  const allocators = Object.keys(ALLOCATORS).filter((name) => name !== 'jemalloc' || fs.existsSync(JEMALLOC));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-membench-'));
  const big = await Promise.all(
    SAMPLE_PHOTOS.map(async (file, i) => {
      const out = path.join(dir, `${i}-24mp.jpg`);
      fs.writeFileSync(out, await upscaled(file, 24));
      return out;
    }),
  );
  const rows: Array<Record<string, unknown>> = [];
  for (const allocator of allocators) {
    const long = run(1000, 2, SAMPLE_PHOTOS, ALLOCATORS[allocator]!);
    rows.push({
      workload: '1,000 sample photos, 2 at once',
      allocator,
      seconds: round(long.seconds, 1),
      peakRssMb: round(long.peakRssMb, 0),
      rssAt200Mb: round(long.rssAt200Mb, 0),
      rssAt1000Mb: round(long.rssAtEndMb, 0),
      growthMb: round(long.rssAtEndMb - long.rssAt200Mb, 0),
      samplesEvery50: long.samplesEvery50.map((v) => round(v, 0)),
    });
    const large = run(12, 2, big, ALLOCATORS[allocator]!);
    rows.push({
      workload: '12 × 24 MP, 2 at once',
      allocator,
      seconds: round(large.seconds, 1),
      peakRssMb: round(large.peakRssMb, 0),
      rssAt200Mb: null,
      rssAt1000Mb: null,
      growthMb: null,
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const table = markdownTable(
    ['workload', 'allocator', 's', 'peak RSS MB', 'RSS @200 MB', 'RSS @1000 MB', 'growth 200→1000 MB'],
    rows.map((r) => [
      r.workload as string,
      r.allocator as string,
      r.seconds as number,
      r.peakRssMb as number,
      (r.rssAt200Mb as number | null) ?? '-',
      (r.rssAt1000Mb as number | null) ?? '-',
      (r.growthMb as number | null) ?? '-',
    ]),
  );
  writeResults(
    'memory',
    rows,
    `## memory (the resize step's image work, IMAGE_MEMORY_MB=${process.env.IMAGE_MEMORY_MB ?? 128})\n\n${table}`,
  );
}

/** Results in bench/results/memory-huge.{json,md}. */
async function benchHugeInputs(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-membench-huge-'));
  const inputs = await hugeInputs(dir);
  const rows = Object.entries(IDLE_ALLOCATORS)
    .filter(([, settings]) => settings.LD_PRELOAD === undefined || fs.existsSync(JEMALLOC))
    .map(([allocator, settings]) => {
      const result = run(inputs.length, 2, inputs, settings, IDLE_MS);
      return {
        allocator,
        seconds: round(result.seconds, 1),
        peakRssMb: round(result.peakRssMb, 0),
        rssAfterWorkMb: round(result.rssAfterWorkMb, 0),
        rssIdleMb: round(result.rssIdleMb, 0),
        rssIdleAfterGcMb: round(result.rssIdleAfterGcMb, 0),
      };
    });
  const table = markdownTable(
    [
      'six 10000×10000, 2 at once: settings',
      's',
      'peak RSS MB',
      'after MB',
      'idle 12 s MB',
      'idle after GC MB',
    ],
    rows.map((r) => [r.allocator, r.seconds, r.peakRssMb, r.rssAfterWorkMb, r.rssIdleMb, r.rssIdleAfterGcMb]),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  const budget = process.env.IMAGE_MEMORY_MB ?? 128;
  writeResults('memory-huge', rows, `## memory, huge inputs (IMAGE_MEMORY_MB=${budget})\n\n${table}`);
}
