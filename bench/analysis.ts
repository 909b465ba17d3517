/**
 * bench/analysis: per provider, model load time, time per image (median and
 * p95 over the samples, decoded as the analyse step decodes them) and peak RSS, each provider in its own
 * process; plus RSS growth between image 200 and the last (1,000 by default,
 * BENCH_ANALYSIS_IMAGES to change) and the live tensor count (a leak check).
 * The local provider is the baseline measured in the same run; the system
 * this replaces called remote vision services at 30–60 s per image.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { BENCH_DIR, markdownTable, median, round, writeResults } from './lib/report.js';

const SEED_SECONDS_PER_IMAGE = 30;

interface ChildResult {
  provider: string;
  count: number;
  coldMs: number;
  loadStatus: unknown;
  perImage: Record<string, number[]>;
  baseRssMb: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
  rssAt200: number;
  rssAtEnd: number;
  rssEvery50: number[];
  tensors: number[];
}

function runChild(provider: string, count: number): ChildResult {
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(BENCH_DIR, 'analysis-child.ts'), provider, String(count)],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function benchAnalysis(): Promise<void> {
  const count = Number(process.env.BENCH_ANALYSIS_IMAGES ?? 1000);
  const results = ['local', 'models'].map((provider) => runChild(provider, count));
  const rows = results.map((r) => {
    const all = Object.values(r.perImage).flat();
    const medianMs = median(all);
    return {
      provider: r.provider,
      images: r.count,
      loadMs: round(r.coldMs - median(r.perImage[Object.keys(r.perImage)[0]!]!), 0),
      medianMs: round(medianMs, 0),
      p95Ms: round(percentile(all, 0.95), 0),
      perSampleMedianMs: Object.fromEntries(
        Object.entries(r.perImage).map(([name, v]) => [name, round(median(v), 0)]),
      ),
      vsSeed: round((SEED_SECONDS_PER_IMAGE * 1000) / medianMs, 0),
      peakRssMb: round(r.peakRssMb, 0),
      rssAfterLoadMb: round(r.rssAfterLoadMb, 0),
      rssAt200Mb: round(r.rssAt200, 0),
      rssAtEndMb: round(r.rssAtEnd, 0),
      growthMb: round(r.rssAtEnd - r.rssAt200, 0),
      tensorsFirstLast: r.tensors.length ? [r.tensors[0], r.tensors.at(-1)] : null,
      rssEvery50: r.rssEvery50.map((v) => round(v, 0)),
      loadStatus: r.loadStatus,
    };
  });
  const table = markdownTable(
    [
      'provider',
      'images',
      'load ms',
      'median ms/image',
      'p95 ms',
      '× faster than 30 s seed',
      'peak RSS MB',
      'RSS @200 MB',
      'RSS @end MB',
      'growth MB',
      'tensors first→last',
    ],
    rows.map((r) => [
      r.provider,
      r.images,
      r.loadMs,
      r.medianMs,
      r.p95Ms,
      r.vsSeed,
      r.peakRssMb,
      r.rssAt200Mb,
      r.rssAtEndMb,
      r.growthMb,
      r.tensorsFirstLast ? r.tensorsFirstLast.join('→') : '–',
    ]),
  );
  const perSample = markdownTable(
    ['provider', ...Object.keys(rows[0]!.perSampleMedianMs)],
    rows.map((r) => [r.provider, ...Object.values(r.perSampleMedianMs)]),
  );
  writeResults(
    'analysis',
    rows,
    `${table}\n\nMedian ms per sample image (decoded as the analyse step does):\n\n${perSample}`,
  );
  return Promise.resolve();
}
