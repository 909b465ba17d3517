/**
 * 10000×10000 inputs (the largest MAX_INPUT_PIXELS accepts by default), each
 * under MAX_UPLOAD_BYTES (5 MiB) because they are smooth: a few colours
 * blended across the frame. One of each kind a decoder treats differently:
 * baseline JPEG (shrink-on-load), progressive JPEG (the whole coefficient
 * buffer), PNG (streamed), interlaced PNG (the whole image), a PNG whose EXIF
 * says rotate 90°, WebP.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';

const SIDE = 10_000;

/** Bilinear blend of 2×2 random colours: PNG filters and deflate make it ~2 MB. */
async function gradient(): Promise<Sharp> {
  const corners = await sharp({
    create: {
      width: 2,
      height: 2,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .raw()
    .toBuffer();
  return sharp(corners, { raw: { width: 2, height: 2, channels: 3 } }).resize(SIDE, SIDE, {
    kernel: 'linear',
  });
}

/** Soft blobs (40×40 noise, bicubic): JPEG has texture to code, ~3.7 MB at q85. */
async function blobs(): Promise<Sharp> {
  const cells = await sharp({
    create: {
      width: 40,
      height: 40,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .raw()
    .toBuffer();
  return sharp(cells, { raw: { width: 40, height: 40, channels: 3 } }).resize(SIDE, SIDE, {
    kernel: 'cubic',
  });
}

/** The two that hold the whole input first, so that at concurrency 2 they start together. */
const KINDS: Record<string, () => Promise<Sharp>> = {
  'progressive.jpg': async () => (await blobs()).jpeg({ quality: 85, progressive: true }),
  'interlaced.png': async () => (await gradient()).png({ compressionLevel: 9, progressive: true }),
  'baseline.jpg': async () => (await blobs()).jpeg({ quality: 85 }),
  'plain.png': async () => (await gradient()).png({ compressionLevel: 9 }),
  'rotated.png': async () => (await gradient()).png({ compressionLevel: 9 }).withMetadata({ orientation: 6 }),
  'lossy.webp': async () => (await gradient()).webp({ quality: 80 }),
};

/** Writes the six inputs into `dir` (once; reused when present) and returns their paths. */
export async function hugeInputs(dir: string): Promise<string[]> {
  sharp.cache(false);
  const files: string[] = [];
  for (const [name, make] of Object.entries(KINDS)) {
    const file = path.join(dir, `huge-${name}`);
    if (!fs.existsSync(file)) await (await make()).toFile(file);
    files.push(file);
  }
  return files;
}
