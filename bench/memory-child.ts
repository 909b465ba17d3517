/**
 * One run of bench/memory: the real image work (decode once, every variant
 * of the product preset, atomic writes) over `count` images cycling through
 * the inputs, `concurrency` at once; RSS sampled after every image, then
 * (with IDLE_MS) after that long idle, as a daemon waiting for work is, and
 * once more after a forced GC (run with --expose-gc) and the same wait again.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeOnce } from '../src/images/decode-once.js';
import { ImageMemoryBudget } from '../src/images/memory-budget.js';
import { formatsFor, intermediateScale, sizesFor } from '../src/images/presets.js';
import { renderVariants } from '../src/images/render-variants.js';
import { FsObjectStore } from '../src/storage/fs-object-store.js';

const [countArg, concurrencyArg, ...inputs] = process.argv.slice(2);
const count = Number(countArg);
sharp.concurrency(os.availableParallelism());
sharp.cache(false);
// The same budget the daemon takes from IMAGE_MEMORY_MB (src/images/memory-budget.ts).
const memory = new ImageMemoryBudget(Number(process.env.IMAGE_MEMORY_MB ?? 128));
const storage = new FsObjectStore(fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-memory-')));

async function processOne(file: string, n: number): Promise<void> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const sizes = sizesFor('product', width, height);
  const scale = intermediateScale(sizes, width, height);
  const decoded = await decodeOnce(
    file,
    Math.max(1, Math.round(width * scale)),
    Math.max(1, Math.round(height * scale)),
    { maxInputPixels: 300_000_000, memory },
  );
  for (const variant of await renderVariants(
    memory,
    decoded,
    sizes,
    formatsFor('product', decoded.hasTransparency),
    'original',
  )) {
    await storage.put(`library/${n % 50}_${variant.size}.${variant.format}`, variant.data);
  }
}

const samples: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrencyArg) }, async () => {
    for (let n = next++; n < count; n = next++) {
      await processOne(inputs[n % inputs.length]!, n);
      samples[n] = process.memoryUsage.rss() / 1_048_576;
    }
  }),
);
fs.rmSync(storage.root, { recursive: true, force: true });
const seconds = (performance.now() - started) / 1000;
const rssMb = () => process.memoryUsage.rss() / 1_048_576;
const idleMs = Number(process.env.IDLE_MS ?? 0);
const rssAfterWorkMb = rssMb();
await sleep(idleMs);
const rssIdleMb = rssMb();
(globalThis as { gc?: () => void }).gc?.();
await sleep(idleMs);
const at = (n: number) => samples[Math.min(n, samples.length) - 1] ?? 0;
console.log(
  JSON.stringify({
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAt200Mb: at(200),
    rssAtEndMb: at(count),
    rssAfterWorkMb,
    rssIdleMb,
    rssIdleAfterGcMb: rssMb(),
    samplesEvery50: samples.filter((_, i) => (i + 1) % 50 === 0),
  }),
);
