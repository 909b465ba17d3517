/**
 * bench/eager-outputs: what decoding at the scale of the eagerly made sizes
 * (zoom on demand, ON_DEMAND_SIZES=zoom) does to the variants still made
 * eagerly, against the decode at the scale of every size (zoom included:
 * the presets as they were before on-demand sizes). 12 MP JPEG product
 * photos; for each eager size and format, the bytes of both and their PSNR
 * against the same size resized from the full-resolution decode (lossless),
 * and the decode + render CPU of both, in the same run.
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import sharp from 'sharp';
import { decodeForSizes, decodeOnce, rawInput, type DecodedImage } from '../src/images/decode-once.js';
import { ImageMemoryBudget } from '../src/images/memory-budget.js';
import { eagerSizesFor } from '../src/images/on-demand-sizes.js';
import { formatsFor, sizesFor, type SizeName } from '../src/images/presets.js';
import { renderVariants, resizeForSize } from '../src/images/render-variants.js';
import { SAMPLE_PHOTOS, upscaled } from './lib/inputs.js';
import { psnr } from './lib/psnr.js';
import { markdownTable, round, writeResults } from './lib/report.js';

const LIMITS = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(512) };
const ROLE = 'product' as const;

interface Cell {
  bytes: number;
  psnr: number;
}

/**
 * The reference at the variant's own dimensions: a fitted size can come out
 * a pixel different from another intermediate (640×426 instead of 427), and
 * comparing after stretching it would measure the stretch, not the quality.
 */
async function referenceFor(
  full: DecodedImage,
  reference: DecodedImage,
  variant: { width: number; height: number },
): Promise<DecodedImage> {
  if (variant.width === reference.width && variant.height === reference.height) return reference;
  const { data, info } = await rawInput(full)
    .resize(variant.width, variant.height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { ...full, data, width: info.width, height: info.height };
}

async function renderFrom(decoded: DecodedImage, sizes: SizeName[]) {
  return renderVariants(LIMITS.memory, decoded, sizes, formatsFor(ROLE, false), 'original');
}

/** This process's CPU seconds over `work` (libvips' threads included); nothing else runs in it meanwhile. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const before = process.cpuUsage();
  const value = await work();
  const { user, system } = process.cpuUsage(before);
  return { value, cpu: (user + system) / 1e6 };
}

export async function benchEagerOutputs(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-eager-'));
  const cells = new Map<string, { before: Cell[]; after: Cell[] }>();
  const cpu = { before: 0, after: 0 };
  try {
    for (const [i, photo] of SAMPLE_PHOTOS.entries()) {
      const file = path.join(dir, `photo-${i}.jpg`);
      fs.writeFileSync(file, await upscaled(photo, 12, 90));
      const { width = 1, height = 1 } = await sharp(file).metadata();
      const eager = eagerSizesFor(ROLE, width, height, ['zoom']);
      const full = await decodeOnce(file, width, height, LIMITS);
      const before = await timed(async () =>
        renderFrom(await decodeForSizes(file, sizesFor(ROLE, width, height), width, height, LIMITS), eager),
      );
      const after = await timed(async () =>
        renderFrom(
          await decodeForSizes(file, eager, width, height, LIMITS, sizesFor(ROLE, width, height)),
          eager,
        ),
      );
      cpu.before += before.cpu;
      cpu.after += after.cpu;
      for (const size of eager) {
        const reference = await resizeForSize(full, size);
        for (const [label, variants] of [
          ['before', before.value],
          ['after', after.value],
        ] as const) {
          for (const variant of variants.filter((v) => v.size === size)) {
            const key = `${size} ${variant.format}`;
            const entry = cells.get(key) ?? { before: [], after: [] };
            entry[label].push({
              bytes: variant.data.length,
              psnr: await psnr(variant.data, await referenceFor(full, reference, variant)),
            });
            cells.set(key, entry);
          }
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const sum = (list: Cell[], field: keyof Cell) => list.reduce((total, cell) => total + cell[field], 0);
  const rows = [...cells].map(([key, { before, after }]) => ({
    variant: key,
    bytesBefore: sum(before, 'bytes'),
    bytesAfter: sum(after, 'bytes'),
    bytesRatio: round(sum(after, 'bytes') / sum(before, 'bytes'), 3),
    psnrBefore: round(sum(before, 'psnr') / before.length),
    psnrAfter: round(sum(after, 'psnr') / after.length),
    psnrDelta: round((sum(after, 'psnr') - sum(before, 'psnr')) / after.length),
  }));
  const table = markdownTable(
    [
      'size format (3 photos)',
      'bytes before',
      'bytes after',
      'after ÷ before',
      'PSNR before dB',
      'PSNR after dB',
      'Δ dB',
    ],
    rows.map((r) => [
      r.variant,
      r.bytesBefore,
      r.bytesAfter,
      r.bytesRatio,
      r.psnrBefore,
      r.psnrAfter,
      r.psnrDelta,
    ]),
  );
  // A mean over three photos can hide where a change comes from: rows past 0.2 dB, photo by photo.
  const names = SAMPLE_PHOTOS.map((file) => path.basename(file));
  const perPhoto = [...cells]
    .filter(
      ([, { before, after }]) => Math.abs((sum(after, 'psnr') - sum(before, 'psnr')) / after.length) > 0.2,
    )
    .map(
      ([key, { before, after }]) =>
        `${key}: ${names.map((name, i) => `${name} ${round(after[i]!.psnr - before[i]!.psnr)} dB`).join(', ')}`,
    );
  const cpuLine = `Decode + render CPU of the eager variants, 3 photos: ${round(cpu.before)} s decoding at zoom's scale, ${round(cpu.after)} s at the eager sizes' (${round(cpu.after / cpu.before)}×).`;
  writeResults(
    'eager-outputs',
    { role: ROLE, photos: SAMPLE_PHOTOS.length, megapixels: 12, rows, cpuSeconds: cpu },
    `## eager-outputs (12 MP JPEG product photos, decode at every size's scale (before) vs the eager sizes' with zoom on demand (after); PSNR against the full-resolution decode resized losslessly)\n\n${table}\n\n${cpuLine}\n\nΔ PSNR per photo where the mean is past 0.2 dB:\n\n${perPhoto.map((line) => `- ${line}`).join('\n') || '- none'}`,
  );
}
