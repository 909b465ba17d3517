/**
 * A child process for test/integration/decode-memory.test.ts: decodes the
 * files given, all at once, with the daemon's libvips settings and budget,
 * and prints its peak RSS (MB) as JSON.
 */
import os from 'node:os';
import sharp from 'sharp';
import { decodeOnce } from '../../src/images/decode-once.js';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';

sharp.concurrency(os.availableParallelism());
sharp.cache(false);
const memory = new ImageMemoryBudget(Number(process.env.IMAGE_MEMORY_MB ?? 128));
const files = process.argv.slice(2);
await Promise.all(files.map((file) => decodeOnce(file, 1200, 1200, { maxInputPixels: 100_000_000, memory })));
console.log(JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
