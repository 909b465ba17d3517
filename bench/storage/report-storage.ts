/** The storage bench's JSON and markdown (bench/results/storage.{json,md}), with what limited each figure. */
import { markdownTable, median, round, writeResults } from '../lib/report.js';
import type { EndToEndRow } from './end-to-end.js';
import type { PutRow } from './put.js';
import type { ServedItems } from './served-items.js';
import type { ServeRow } from './serve.js';

interface StorageResults {
  items: ServedItems;
  serve: ServeRow[];
  put: { rows: PutRow[]; originalBytes: number[]; variantSetBytes: number; variantCount: number };
  endToEnd: EndToEndRow[];
  uploadBytes: number[];
  seconds: number;
  loadAverages: Array<{ at: string; oneMinute: number }>;
}

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Which process held the CPU during a wrk run (machine: 200 % = both cores). */
function serveLimit(row: ServeRow): string {
  const parts = [`media-worker ${row.serverCpuPercent} %`];
  if (row.motoCpuPercent > 0) parts.push(`moto ${row.motoCpuPercent} %`);
  const rest = Math.max(0, row.machineBusyPercent - row.serverCpuPercent - row.motoCpuPercent);
  parts.push(`wrk + rest ${rest} %`);
  const saturated = row.machineBusyPercent >= 185 ? 'both cores busy: ' : '';
  const bound =
    row.motoCpuPercent >= 90
      ? 'moto (one Python process) bound'
      : row.serverCpuPercent >= 95
        ? "the server's JS thread bound"
        : '';
  return `${saturated}${parts.join(', ')}${bound ? ` — ${bound}` : ''}`;
}

function serveTable(rows: ServeRow[]): string {
  return markdownTable(
    [
      'scenario',
      'req/s (median)',
      'p50 ms',
      'p99 ms',
      '× fs',
      'errors',
      'CPU during the run (200 % = 2 cores)',
    ],
    rows.map((r) => [r.scenario, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.vsFs, r.errors, serveLimit(r)]),
  );
}

function putTable(rows: PutRow[]): string {
  return markdownTable(
    ['item', 'store', 'ms per item (median)', 'p90 ms', '× fs (time)', 'moto CPU ms per item'],
    rows.map((r) => [r.item, r.store, r.msPerItem, r.p90Ms, r.vsFs, r.motoCpuMsPerItem || '–']),
  );
}

function endToEndTable(rows: EndToEndRow[]): string {
  return markdownTable(
    [
      'store',
      'uploads',
      'uploads/min (median)',
      'runs',
      '× fs',
      'p50 s to callback',
      'worker CPU ms/upload',
      'moto CPU ms/upload',
      'failed',
    ],
    rows.map((r) => [
      r.store,
      r.uploads,
      r.uploadsPerMinute,
      r.runs.join(', '),
      r.vsFs,
      r.p50Seconds,
      r.workerCpuMsPerUpload,
      r.motoCpuMsPerUpload || '–',
      r.failed,
    ]),
  );
}

function notes(results: StorageResults): string {
  const [, cached, cold] = results.serve;
  const s3 = results.endToEnd[1]!;
  return [
    '- Every ratio is against the directory store measured in the same run, on the same 2 cores.',
    `- Serve: ${results.items.mediaIds.length} items' grid WebPs (${Math.min(...results.items.gridWebpBytes)}–${Math.max(...results.items.gridWebpBytes)} bytes) in turn, wrk 1 thread × 32 connections, 5 s per run, rounds interleaved. The three servers are real \`media-worker run --no-work\` processes on copies of one SQLite database. Cached serve: ${cached!.vsFs}× fs (goal ≥ 0.9). With no cache every request is a GetObject to moto: ${cold!.requestsPerSecond} req/s, ${round(cached!.requestsPerSecond / cold!.requestsPerSecond, 1)}× fewer than with the cache; that figure is moto's (a Python server), not S3's.`,
    `- Put: originals ${results.put.originalBytes.map(mb).join(', ')} MiB; originals are 12 MP photos with grain added so they weigh what a phone's do; a variant set is ${results.put.variantCount} objects, ${round(results.put.variantSetBytes / 1024, 0)} KB in all (one 2 MP product photo's). The directory fsyncs every put; moto keeps objects in memory but parses, hashes and copies every body in Python, which is what its CPU column counts. A real S3 adds a network round trip per put (several ms in-region, more across regions) that moto on loopback does not model.`,
    `- End to end: ${s3.uploads} distinct 12 MP JPEGs made as bench/end-to-end makes them (${mb(median(results.uploadBytes))} MiB median), fake main API, one worker at CONCURRENCY=2 (this machine's default), ANALYSIS_PROVIDERS=local (models off), SQLite, clock from the worker's first poll to the last callback. S3 on moto: ${s3.vsFs}× the directory's uploads/min (goal ≥ 0.9). The worker's image work fills both cores, and moto's CPU (${s3.motoCpuMsPerUpload} ms per upload) is taken from the same two cores: on a real S3 that CPU is elsewhere, but each of the ~15 puts per upload and the retrieve's put would wait for a remote round trip instead.`,
    `- Whole storage bench: ${results.seconds} s. Load average (1 min) as each part started: ${results.loadAverages.map((l) => `${l.at.split(':')[0]} ${l.oneMinute}`).join('; ')}. On 2 cores anything above ~2 means other processes shared the machine: the interleaved ratios hold up better than the absolute figures.`,
  ].join('\n');
}

export function reportStorage(results: StorageResults): void {
  const markdown = [
    '## storage: S3 (moto on this machine) vs filesystem',
    '',
    '### serve: /serve/:id?size=grid&format=webp',
    '',
    serveTable(results.serve),
    '',
    '### put: ms per item',
    '',
    putTable(results.put.rows),
    '',
    '### end to end: uploads/minute, one `media-worker run`',
    '',
    endToEndTable(results.endToEnd),
    '',
    notes(results),
  ].join('\n');
  writeResults(
    'storage',
    {
      gridWebpBytes: results.items.gridWebpBytes,
      uploadBytes: results.uploadBytes,
      serve: results.serve,
      put: results.put,
      endToEnd: results.endToEnd,
      seconds: results.seconds,
      loadAverages: results.loadAverages,
    },
    markdown,
  );
}
