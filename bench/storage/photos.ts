/**
 * Uploads the size phones send: each sample photo upscaled to 12 MP (as
 * bench/lib/inputs.ts does) with a film-grain-like noise added, so that the
 * JPEG is 3–5 MB like a real 12 MP photo rather than the ~1 MB a smooth
 * upscale compresses to. A different quality each, so no two share bytes
 * (duplicate reuse would skip work).
 */
import sharp from 'sharp';
import { SAMPLE_PHOTOS } from '../lib/inputs.js';

const MEGAPIXELS = 12;
const GRAIN_SIGMA = 12;

async function grainyPhoto(file: string, quality: number): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(file).metadata();
  const scale = Math.sqrt((MEGAPIXELS * 1e6) / (width * height));
  const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
  const pixels = await sharp(file).resize(w, h, { kernel: 'lanczos3' }).removeAlpha().raw().toBuffer();
  const noise = await sharp({
    create: {
      width: w,
      height: h,
      channels: 3,
      background: '#000000',
      noise: { type: 'gaussian', mean: 128, sigma: GRAIN_SIGMA },
    },
  })
    .raw()
    .toBuffer();
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = Math.max(0, Math.min(255, pixels[i]! + noise[i]! - 128));
  return sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** `count` distinct 12 MP JPEGs of 3–5 MB made from the sample photos. */
export async function phoneSizedPhotos(count: number): Promise<Buffer[]> {
  const photos: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    photos.push(await grainyPhoto(SAMPLE_PHOTOS[i % SAMPLE_PHOTOS.length]!, 86 + (i % 6)));
  }
  return photos;
}
