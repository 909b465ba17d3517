/**
 * A budget for the memory libvips' encoders and decoder take
 * while they run. Measured (2 cores, sharp 0.35): encoding a 2400×1600 image
 * takes ~24 bytes per pixel for AVIF (libaom), ~19 for WebP, ~11 for JPEG;
 * decoding ~9 per output pixel. Three formats of two large items at once
 * were the peak of a 24 MP upload at concurrency 2 (~500 MB); with a budget
 * the big encodes take turns while small ones still run side by side.
 * An operation larger than the whole budget runs alone. A decode is costed
 * from the file's header (decode-cost.ts): some decoders hold the whole input.
 * One budget per process (each media-worker@N has its own), built by the
 * composition root from IMAGE_MEMORY_MB and handed to whatever decodes or encodes.
 */
import type { OutputFormat } from './presets.js';

const BYTES_PER_PIXEL: Record<OutputFormat | 'decode', number> = {
  avif: 24,
  webp: 19,
  jpeg: 11,
  png: 12,
  decode: 9,
};

/**
 * The most one decode may hold, even alone: a 48 KB AVIF of 10000×10000
 * needs ~1.8 GB, which with the models loaded would pass the unit's
 * MemoryMax=2G, and the OOM-killed item would come back after its lease and
 * kill the next worker too. Eight budgets (1 GiB at the default 128 MB) still
 * take a 100-megapixel progressive JPEG or interlaced PNG (~0.35 GB).
 */
export const DECODE_LIMIT_BUDGETS = 8;

export function estimatedBytes(operation: OutputFormat | 'decode', pixels: number): number {
  return BYTES_PER_PIXEL[operation] * pixels;
}

export class ImageMemoryBudget {
  private readonly budget: number;
  private inUse = 0;
  private readonly waiting: Array<{ cost: number; start: () => void }> = [];

  constructor(megabytes: number) {
    this.budget = megabytes * 2 ** 20;
  }

  /** The most one decode may take (DECODE_LIMIT_BUDGETS budgets). */
  decodeLimitBytes(): number {
    return DECODE_LIMIT_BUDGETS * this.budget;
  }

  /** Runs `work` once `bytes` of the budget are free (in arrival order), and gives them back after. */
  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    const cost = Math.min(bytes, this.budget);
    await new Promise<void>((start) => {
      this.waiting.push({ cost, start });
      this.admit();
    });
    try {
      return await work();
    } finally {
      this.inUse -= cost;
      this.admit();
    }
  }

  private admit(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (this.inUse > 0 && this.inUse + next.cost > this.budget) return;
      this.waiting.shift();
      this.inUse += next.cost;
      next.start();
    }
  }
}
