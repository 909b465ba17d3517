/**
 * A process-wide budget for the memory libvips' encoders and decoder take
 * while they run. Measured (2 cores, sharp 0.35): encoding a 2400×1600 image
 * takes ~24 bytes per pixel for AVIF (libaom), ~19 for WebP, ~11 for JPEG;
 * decoding ~9 per output pixel. Three formats of two large items at once
 * were the peak of a 24 MP upload at concurrency 2 (~500 MB); with a budget
 * the big encodes take turns while small ones still run side by side.
 * An operation larger than the whole budget runs alone. A decode is costed
 * from the file's header (decode-cost.ts): some decoders hold the whole input.
 * The budget is per process: each media-worker@N process has its own.
 */
import type { OutputFormat } from './presets.js';

const BYTES_PER_PIXEL: Record<OutputFormat | 'decode', number> = {
  avif: 24,
  webp: 19,
  jpeg: 11,
  png: 12,
  decode: 9,
};

let budget = 128 * 2 ** 20;
let inUse = 0;
const waiting: Array<{ cost: number; start: () => void }> = [];

export function setImageMemoryBudget(megabytes: number): void {
  budget = megabytes * 2 ** 20;
}

/**
 * The most one decode may hold, even alone: a 48 KB AVIF of 10000×10000
 * needs ~1.8 GB, which with the models loaded would pass the unit's
 * MemoryMax=2G, and the OOM-killed item would come back after its lease and
 * kill the next worker too. Eight budgets (1 GiB at the default 128 MB) still
 * take a 100-megapixel progressive JPEG or interlaced PNG (~0.35 GB).
 */
export const DECODE_LIMIT_BUDGETS = 8;

export function decodeLimitBytes(): number {
  return DECODE_LIMIT_BUDGETS * budget;
}

export function estimatedBytes(operation: OutputFormat | 'decode', pixels: number): number {
  return BYTES_PER_PIXEL[operation] * pixels;
}

function admit(): void {
  while (waiting.length > 0) {
    const next = waiting[0]!;
    if (inUse > 0 && inUse + next.cost > budget) return;
    waiting.shift();
    inUse += next.cost;
    next.start();
  }
}

/** Runs `work` once `bytes` of the budget are free (in arrival order), and gives them back after. */
export async function withImageMemory<T>(bytes: number, work: () => Promise<T>): Promise<T> {
  const cost = Math.min(bytes, budget);
  await new Promise<void>((start) => {
    waiting.push({ cost, start });
    admit();
  });
  try {
    return await work();
  } finally {
    inUse -= cost;
    admit();
  }
}
