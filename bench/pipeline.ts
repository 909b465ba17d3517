/**
 * bench/pipeline: the resize step's image work against naive sharp (one
 * decode per output) at sharp's defaults and at the project's encoder
 * settings, interleaved, several repetitions, at 1/2/4 concurrent items, on
 * the sample photos and on 24-megapixel upscaled copies; and the vipsthumbnail
 * command (one run per output, at the project's encoder settings) when
 * libvips-tools is installed. Each run is a child process, so peak RSS is
 * per contender (for vipsthumbnail, of the bench child only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLE_PHOTOS, upscaled } from './lib/inputs.js';
import { BENCH_DIR, markdownTable, median, round, writeResults } from './lib/report.js';

/** The libvips command-line limit, when libvips-tools is installed (apt-get install libvips-tools). */
const HAS_VIPSTHUMBNAIL = spawnSync('vipsthumbnail', ['--version']).status === 0;
const CONTENDERS = [
  'project',
  'naive-default',
  'naive-presets',
  ...(HAS_VIPSTHUMBNAIL ? ['vipsthumbnail'] : []),
];

interface ChildResult {
  seconds: number;
  images: number;
  outputs: number;
  bytesByFormat: Record<string, number>;
  psnrByFormat: Record<string, number>;
  maxRssMb: number;
}

async function make24Megapixel(dir: string): Promise<string[]> {
  return Promise.all(
    SAMPLE_PHOTOS.map(async (file) => {
      const out = path.join(dir, `${path.basename(file, path.extname(file))}-24mp.jpg`);
      fs.writeFileSync(out, await upscaled(file, 24));
      return out;
    }),
  );
}

function runChild(contender: string, concurrency: number, files: string[]): ChildResult {
  const stdout = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(BENCH_DIR, 'pipeline-child.ts'), contender, String(concurrency), ...files],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

export async function benchPipeline(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-bench-'));
  const sets = [
    { name: 'samples', files: SAMPLE_PHOTOS, concurrency: [1, 2, 4], repetitions: 3 },
    { name: '24MP', files: await make24Megapixel(dir), concurrency: [1, 2], repetitions: 2 },
  ];
  const rows: Array<Record<string, unknown>> = [];
  for (const set of sets) {
    for (const concurrency of set.concurrency) {
      const runs: Record<string, ChildResult[]> = {};
      for (let rep = 0; rep < set.repetitions; rep++) {
        for (const contender of CONTENDERS)
          (runs[contender] ??= []).push(runChild(contender, concurrency, set.files));
      }
      const baseline = median(runs['naive-default']!.map((r) => r.seconds));
      const baselineBytes = Object.values(runs['naive-default']![0]!.bytesByFormat).reduce(
        (a, b) => a + b,
        0,
      );
      for (const contender of CONTENDERS) {
        const results = runs[contender]!;
        const seconds = results.map((r) => r.seconds);
        const first = results[0]!;
        const totalBytes = Object.values(first.bytesByFormat).reduce((a, b) => a + b, 0);
        rows.push({
          set: set.name,
          concurrency,
          contender,
          medianSeconds: round(median(seconds)),
          minSeconds: round(Math.min(...seconds)),
          imagesPerSecond: round(first.images / median(seconds)),
          outputsPerSecond: round(first.outputs / median(seconds)),
          speedupVsNaiveDefault: round(baseline / median(seconds)),
          bytesByFormat: first.bytesByFormat,
          totalBytes,
          bytesVsNaiveDefault: round(totalBytes / baselineBytes, 3),
          psnrByFormat: Object.fromEntries(Object.entries(first.psnrByFormat).map(([f, v]) => [f, round(v)])),
          peakRssMb: round(Math.max(...results.map((r) => r.maxRssMb)), 0),
        });
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const table = markdownTable(
    [
      'set',
      'items at once',
      'contender',
      'median s',
      'min s',
      'images/s',
      'outputs/s',
      '× naive-default',
      'KB avif/webp/jpeg',
      'bytes vs naive-default',
      'PSNR dB avif/webp/jpeg (detail)',
      'peak RSS MB',
    ],
    rows.map((r) => {
      const bytes = r.bytesByFormat as Record<string, number>;
      const q = r.psnrByFormat as Record<string, number>;
      return [
        r.set as string,
        r.concurrency as number,
        r.contender as string,
        r.medianSeconds as number,
        r.minSeconds as number,
        r.imagesPerSecond as number,
        r.outputsPerSecond as number,
        r.speedupVsNaiveDefault as number,
        ['avif', 'webp', 'jpeg'].map((f) => Math.round((bytes[f] ?? 0) / 1024)).join(' / '),
        r.bytesVsNaiveDefault as number,
        ['avif', 'webp', 'jpeg'].map((f) => q[f] ?? '-').join(' / '),
        r.peakRssMb as number,
      ];
    }),
  );
  writeResults('pipeline', rows, `## pipeline (product preset: AVIF, WebP, JPEG per size)\n\n${table}`);
}
