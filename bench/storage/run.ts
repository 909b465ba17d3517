/**
 * bench/storage (`npm run bench:storage`): what an S3 bucket costs against a
 * directory, each ratio against the directory measured in the same run.
 * 1. /serve from a bucket with the read-through cache warm, and with no cache,
 *    vs from a directory (wrk; serve.ts).
 * 2. ms per put of an original and of a variant set (put.ts).
 * 3. uploads/minute of one `media-worker run` end to end (end-to-end.ts).
 * The bucket is moto_server, a Python S3 on the same 2 cores and loopback:
 * it costs CPU a real S3 would not, and has none of a real S3's network
 * latency. Writes bench/results/storage.{json,md}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SAMPLE_PHOTOS, upscaled } from '../lib/inputs.js';
import { round } from '../lib/report.js';
import { hasWrk } from '../lib/wrk.js';
import { startBucketServer } from './bucket-server.js';
import { benchEndToEndStorage } from './end-to-end.js';
import { phoneSizedPhotos } from './photos.js';
import { benchPut } from './put.js';
import { reportStorage } from './report-storage.js';
import { copyIntoBucket, processServedItems } from './served-items.js';
import { benchServeStorage } from './serve.js';

const SERVED_ITEMS = 6;
const UPLOADS = Number(process.env.BENCH_STORAGE_UPLOADS ?? 12);

if (!hasWrk()) throw new Error('bench storage needs wrk: apt-get install -y wrk');
const startedAt = Date.now();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-storage-bench-'));
const bucket = await startBucketServer();
/** Other work on the machine (the 1-minute load average as each part starts): 2 cores, so above ~2 is contention. */
const loadAverages: Array<{ at: string; oneMinute: number }> = [];
try {
  const step = (what: string) => {
    loadAverages.push({ at: what, oneMinute: round(os.loadavg()[0]!, 1) });
    console.log(
      `[${Math.round((Date.now() - startedAt) / 1000)} s] ${what} (load average ${os.loadavg()[0]!.toFixed(1)})`,
    );
  };
  step('processing the served items, copying them into a bucket');
  const items = await processServedItems(dir, SERVED_ITEMS);
  await copyIntoBucket(items, await bucket.createBucket('bench-serve', path.join(dir, 'scratch')));

  step('serve');
  const serve = await benchServeStorage(dir, items, bucket, 'bench-serve');

  step('inputs: 3–5 MB originals for put, 12 MP uploads for end to end');
  const originals = (await phoneSizedPhotos(4)).map((photo, i) => {
    const file = path.join(dir, `original-${i}.jpg`);
    fs.writeFileSync(file, photo);
    return file;
  });
  // Distinct 12 MP JPEGs (a different quality each, so no two share bytes), as bench/end-to-end makes them.
  const uploads = await Promise.all(
    Array.from({ length: UPLOADS }, (_, i) =>
      upscaled(SAMPLE_PHOTOS[i % SAMPLE_PHOTOS.length]!, 12, 85 + (i % 10)),
    ),
  );

  step('put');
  const variants = items.variantKeys.map((key) => ({
    key,
    data: fs.readFileSync(items.fsStore.pathOf(key)),
  }));
  const put = await benchPut(
    dir,
    originals,
    variants,
    await bucket.createBucket('bench-put', path.join(dir, 'scratch')),
    bucket,
  );

  step('end to end');
  const endToEnd = await benchEndToEndStorage(dir, uploads, bucket);
  step('done');
  reportStorage({
    items,
    serve,
    put,
    endToEnd,
    uploadBytes: uploads.map((p) => p.length),
    loadAverages,
    seconds: Math.round((Date.now() - startedAt) / 1000),
  });
} finally {
  await bucket.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
