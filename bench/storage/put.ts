/**
 * Put: storing an original as retrieve does (putKeepingLocal from a stream,
 * then release) and a resize step's variant set (put of each Buffer in turn,
 * with its Content-Type and Cache-Control), into a directory and into a bucket
 * on moto; ms per item, the two stores alternating (ABBA) so drift hits both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VARIANT_CACHE_CONTROL } from '../../src/images/presets.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { contentTypeFor, type ObjectStore } from '../../src/storage/object-store.js';
import { median, round } from '../lib/report.js';
import type { BucketServer } from './bucket-server.js';

const REPETITIONS = Number(process.env.BENCH_STORAGE_PUT_REPETITIONS ?? 8);

export interface PutRow {
  item: string;
  store: string;
  msPerItem: number;
  p90Ms: number;
  vsFs: number;
  motoCpuMsPerItem: number;
}

interface Timed {
  ms: number[];
  motoCpuMs: number;
}

async function timed(bucket: BucketServer, into: Timed, work: () => Promise<void>): Promise<void> {
  const motoBefore = bucket.cpuMs();
  const started = performance.now();
  await work();
  into.ms.push(performance.now() - started);
  into.motoCpuMs += bucket.cpuMs() - motoBefore;
}

function p90(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
}

export async function benchPut(
  dir: string,
  originals: string[],
  variants: Array<{ key: string; data: Buffer }>,
  bucketStore: ObjectStore,
  bucket: BucketServer,
): Promise<{ rows: PutRow[]; originalBytes: number[]; variantSetBytes: number; variantCount: number }> {
  const stores: Array<[string, ObjectStore]> = [
    ['fs', new FsObjectStore(path.join(dir, 'put-fs'))],
    ['s3 on moto', bucketStore],
  ];
  const results = new Map<string, { original: Timed; variants: Timed }>(
    stores.map(([name]) => [
      name,
      { original: { ms: [], motoCpuMs: 0 }, variants: { ms: [], motoCpuMs: 0 } },
    ]),
  );
  for (let rep = 0; rep < REPETITIONS; rep++) {
    const order = rep % 2 === 0 ? stores : [...stores].reverse();
    for (const [name, store] of order) {
      const result = results.get(name)!;
      const original = originals[rep % originals.length]!;
      await timed(bucket, result.original, async () => {
        const { local } = await store.putKeepingLocal(
          `bulk/2026-01-01/${rep}.jpg`,
          fs.createReadStream(original),
          {
            contentType: 'image/jpeg',
          },
        );
        await local.release();
      });
      await timed(bucket, result.variants, async () => {
        for (const variant of variants) {
          await store.put(variant.key.replace('library/', `library/put-${rep}/`), variant.data, {
            contentType: contentTypeFor(variant.key),
            cacheControl: VARIANT_CACHE_CONTROL,
          });
        }
      });
    }
  }
  const fsResult = results.get('fs')!;
  const rows: PutRow[] = [];
  for (const item of ['original', 'variants'] as const) {
    for (const [name] of stores) {
      const timing = results.get(name)![item];
      rows.push({
        item:
          item === 'original'
            ? 'original (putKeepingLocal, as retrieve)'
            : `variant set: ${variants.length} puts (as resize)`,
        store: name,
        msPerItem: round(median(timing.ms), 1),
        p90Ms: round(p90(timing.ms), 1),
        vsFs: round(median(timing.ms) / median(fsResult[item].ms)),
        motoCpuMsPerItem: name === 'fs' ? 0 : round(timing.motoCpuMs / timing.ms.length, 0),
      });
    }
  }
  return {
    rows,
    originalBytes: originals.map((file) => fs.statSync(file).size),
    variantSetBytes: variants.reduce((sum, v) => sum + v.data.length, 0),
    variantCount: variants.length,
  };
}
