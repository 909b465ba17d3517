/**
 * bench/encoders: the effort/quality/bytes/time table that chose the presets.
 * Each photo is resized once to the detail box (1200 px) and encoded with
 * each setting; PSNR is against the lossless resized pixels.
 */
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { psnr } from './lib/psnr.js';
import { BENCH_DIR, markdownTable, median, round, writeResults } from './lib/report.js';

const ROOT = path.dirname(BENCH_DIR);
const PHOTOS = ['cat-chelsea.png', 'coffee-cup.png', 'hubble-deep-field.jpg'];

/**
 * Effort, chroma and quality per format. The presets (marked) are the rows
 * that match sharp's defaults' PSNR within ~0.2 dB at equal total bytes in
 * bench/pipeline: AVIF q56 (q55–57 map to one libaom step), mozjpeg q82.
 */
const SETTINGS: Array<[string, 'avif' | 'webp' | 'jpeg', Record<string, unknown>]> = [
  ['avif q50 e0 4:2:0', 'avif', { quality: 50, effort: 0, chromaSubsampling: '4:2:0' }],
  ['avif q50 e2 4:2:0', 'avif', { quality: 50, effort: 2, chromaSubsampling: '4:2:0' }],
  ['avif q56 e2 4:2:0 (preset)', 'avif', { quality: 56, effort: 2, chromaSubsampling: '4:2:0' }],
  ['avif q60 e2 4:2:0', 'avif', { quality: 60, effort: 2, chromaSubsampling: '4:2:0' }],
  ['avif q50 e4 4:2:0', 'avif', { quality: 50, effort: 4, chromaSubsampling: '4:2:0' }],
  ['avif q50 e4 4:4:4 (sharp default)', 'avif', {}],
  ['avif q50 e6 4:2:0', 'avif', { quality: 50, effort: 6, chromaSubsampling: '4:2:0' }],
  ['webp e2', 'webp', { quality: 80, effort: 2 }],
  ['webp e4 (preset, default)', 'webp', { quality: 80, effort: 4 }],
  ['webp e6', 'webp', { quality: 80, effort: 6 }],
  ['jpeg q80 libjpeg-turbo (default)', 'jpeg', { quality: 80 }],
  ['jpeg q80 mozjpeg', 'jpeg', { quality: 80, mozjpeg: true }],
  ['jpeg q82 mozjpeg (preset)', 'jpeg', { quality: 82, mozjpeg: true }],
  ['jpeg q85 mozjpeg', 'jpeg', { quality: 85, mozjpeg: true }],
];

export async function benchEncoders(): Promise<void> {
  sharp.concurrency(os.availableParallelism());
  sharp.cache(false);
  const inputs = await Promise.all(
    PHOTOS.map(async (name) => {
      const file = path.join(ROOT, 'samples/images', name);
      const big = await sharp(file)
        .resize(2400, 2400, { fit: 'inside', kernel: 'lanczos3' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const detail = await sharp(big.data, { raw: big.info })
        .resize(1200, 1200, { fit: 'inside' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return {
        data: detail.data,
        width: detail.info.width,
        height: detail.info.height,
        channels: detail.info.channels,
      };
    }),
  );
  const rows: Array<Array<string | number>> = [];
  const json: unknown[] = [];
  const times: Record<string, number[]> = {};
  // Interleaved: every setting once per round, three rounds.
  for (let round_ = 0; round_ < 3; round_++) {
    for (const [label, format, options] of SETTINGS) {
      const started = performance.now();
      for (const input of inputs)
        await sharp(input.data, {
          raw: { width: input.width, height: input.height, channels: input.channels as 3 },
        })
          .toFormat(format, options)
          .toBuffer();
      (times[label] ??= []).push((performance.now() - started) / 1000);
    }
  }
  for (const [label, format, options] of SETTINGS) {
    let bytes = 0;
    const quality: number[] = [];
    for (const input of inputs) {
      const out = await sharp(input.data, {
        raw: { width: input.width, height: input.height, channels: input.channels as 3 },
      })
        .toFormat(format, options)
        .toBuffer();
      bytes += out.length;
      quality.push(await psnr(out, input));
    }
    const seconds = median(times[label]!);
    const meanPsnr = quality.reduce((a, b) => a + b, 0) / quality.length;
    rows.push([label, round(seconds, 3), Math.round(bytes / 1024), round(meanPsnr)]);
    json.push({ label, format, options, medianSeconds: seconds, bytes, psnr: meanPsnr });
  }
  writeResults(
    'encoders',
    json,
    `## encoders (3 photos at 1200 px, median of 3 interleaved rounds)\n\n${markdownTable(['setting', 'median s (3 images)', 'KB', 'mean PSNR dB'], rows)}`,
  );
}
