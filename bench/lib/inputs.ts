/** Benchmark inputs made at run time from the sample photos. */
import path from 'node:path';
import sharp from 'sharp';
import { BENCH_DIR } from './report.js';

export const SAMPLE_PHOTOS = ['cat-chelsea.png', 'coffee-cup.png', 'hubble-deep-field.jpg'].map((f) =>
  path.join(path.dirname(BENCH_DIR), 'samples/images', f),
);

/** A JPEG of `file` upscaled to about `megapixels`. */
export async function upscaled(file: string, megapixels: number, quality = 92): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(file).metadata();
  const scale = Math.sqrt((megapixels * 1e6) / (width * height));
  return sharp(file)
    .resize(Math.round(width * scale), Math.round(height * scale), { kernel: 'lanczos3' })
    .jpeg({ quality })
    .toBuffer();
}
