/**
 * One contender of bench/pipeline in its own process (so its peak RSS is its
 * own): processes every input with up to `concurrency` items at once and
 * prints one JSON line. Contenders:
 *   project       the resize step's image work: decodeOnce + renderVariants with the presets
 *   naive-default sharp per output (decode per output), sharp's default encoder settings
 *   naive-presets sharp per output, with the project's encoder settings
 *   vipsthumbnail libvips' CLI per output, with the project's encoder settings
 */
import { execFile as execFileCallback } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { decodeForSizes } from '../src/images/decode-once.js';
import {
  ENCODER_SETTINGS,
  SIZES,
  formatsFor,
  sizesFor,
  type OutputFormat,
  type SizeName,
} from '../src/images/presets.js';
import { ImageMemoryBudget } from '../src/images/memory-budget.js';
import { renderVariants } from '../src/images/render-variants.js';
import { psnr } from './lib/psnr.js';

const execFile = promisify(execFileCallback);
const [contender, concurrencyArg, ...files] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
/** The daemon's default image memory budget (IMAGE_MEMORY_MB=128). */
const memory = new ImageMemoryBudget(128);
sharp.concurrency(os.availableParallelism());
sharp.cache(false);

interface Output {
  size: SizeName;
  format: OutputFormat;
  data: Buffer;
}

const DEFAULTS: Record<OutputFormat, object> = { avif: {}, webp: {}, jpeg: {}, png: {} };

async function naive(file: string, settings: Record<OutputFormat, object>): Promise<Output[]> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const outputs: Output[] = [];
  for (const size of sizesFor('product', width, height)) {
    const box = SIZES[size];
    for (const format of formatsFor('product', false)) {
      const position = box.crop === 'attention' ? sharp.strategy.attention : 'centre';
      const data = await sharp(file)
        .autoOrient()
        .resize(box.width, box.height, { fit: box.fit, position, withoutEnlargement: true })
        .toFormat(format, settings[format])
        .toBuffer();
      outputs.push({ size, format, data });
    }
  }
  return outputs;
}

async function project(file: string): Promise<Output[]> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const sizes = sizesFor('product', width, height);
  const decoded = await decodeForSizes(file, sizes, width, height, { maxInputPixels: 300_000_000, memory });
  return renderVariants(memory, decoded, sizes, formatsFor('product', decoded.hasTransparency), 'original');
}

/** libvips' own CLI: a decode per output (shrink-on-load), the project's encoder settings where libvips has them. */
const VIPS_OPTIONS: Record<OutputFormat, string> = {
  avif: `[Q=${ENCODER_SETTINGS.avif.quality},effort=${ENCODER_SETTINGS.avif.effort},compression=av1,subsample-mode=on,strip]`,
  webp: `[Q=${ENCODER_SETTINGS.webp.quality},effort=${ENCODER_SETTINGS.webp.effort},strip]`,
  jpeg: `[Q=${ENCODER_SETTINGS.jpeg.quality},optimize-coding,strip]`,
  png: '[strip]',
};
const vipsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-vips-'));
// sharp sets VIPSHOME for its bundled libvips; the system's vipsthumbnail would then miss its own modules (heif).
const { VIPSHOME: _bundled, ...vipsEnv } = process.env;

async function vipsthumbnail(file: string): Promise<Output[]> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const outputs: Output[] = [];
  for (const size of sizesFor('product', width, height)) {
    const box = SIZES[size];
    for (const format of formatsFor('product', false)) {
      const out = path.join(vipsDir, `${path.basename(file)}-${size}.${format === 'jpeg' ? 'jpg' : format}`);
      const crop =
        box.fit === 'cover' ? ['--smartcrop', box.crop === 'attention' ? 'attention' : 'centre'] : [];
      await execFile(
        'vipsthumbnail',
        [file, '--size', `${box.width}x${box.height}`, ...crop, '-o', `${out}${VIPS_OPTIONS[format]}`],
        { env: vipsEnv },
      );
      outputs.push({ size, format, data: fs.readFileSync(out) });
    }
  }
  return outputs;
}

const run = (file: string) =>
  contender === 'project'
    ? project(file)
    : contender === 'vipsthumbnail'
      ? vipsthumbnail(file)
      : naive(
          file,
          contender === 'naive-default' ? DEFAULTS : (ENCODER_SETTINGS as Record<OutputFormat, object>),
        );

/**
 * The quality reference for an output: the original downscaled straight to
 * the output's own dimensions (no shrink-on-load, lanczos3). Each contender is
 * compared at its own size, so a one-pixel rounding difference between
 * pipelines is not counted as a resampling loss.
 */
const references = new Map<string, Promise<{ data: Buffer; width: number; height: number }>>();
async function reference(file: string, encoded: Buffer) {
  const { width = 1, height = 1 } = await sharp(encoded).metadata();
  const key = `${file}:${width}x${height}`;
  let made = references.get(key);
  if (!made) {
    made = sharp(file)
      .autoOrient()
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false })
      .removeAlpha()
      .raw()
      .toBuffer()
      .then((data) => ({ data, width, height }));
    references.set(key, made);
  }
  return made;
}

async function main(): Promise<void> {
  const queue = [...files];
  const results: Array<{ file: string; outputs: Output[] }> = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let file = queue.shift(); file; file = queue.shift())
        results.push({ file, outputs: await run(file) });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Peak RSS of the timed work only: the quality check below decodes references of its own.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const bytesByFormat: Record<string, number> = {};
  const psnrByFormat: Record<string, number[]> = {};
  for (const { file, outputs } of results) {
    for (const output of outputs) {
      bytesByFormat[output.format] = (bytesByFormat[output.format] ?? 0) + output.data.length;
      if (output.size === 'detail')
        (psnrByFormat[output.format] ??= []).push(
          await psnr(output.data, await reference(file, output.data)),
        );
    }
  }
  const outputs = results.reduce((n, r) => n + r.outputs.length, 0);
  const meanPsnr = Object.fromEntries(
    Object.entries(psnrByFormat).map(([f, v]) => [f, v.reduce((a, b) => a + b, 0) / v.length]),
  );
  console.log(
    JSON.stringify({
      seconds,
      images: results.length,
      outputs,
      bytesByFormat,
      psnrByFormat: meanPsnr,
      maxRssMb,
    }),
  );
}

await main();
