/**
 * What a decode is costed at, from real files' headers: the decoders that
 * hold the whole input are charged for it, and a file that would need more
 * than one decode may take is refused before anything is decoded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError, TransientError } from '../../src/errors.js';
import { decodeCost, heldBytesPerInputPixel } from '../../src/images/decode-cost.js';
import { decodeOnce } from '../../src/images/decode-once.js';
import { ImageMemoryBudget, estimatedBytes } from '../../src/images/memory-budget.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-decode-cost-'));
const SIDE = 1600;

/** A smooth 1600×1600 image in the given encoding, written to a file. */
async function write(name: string, encode: (image: Sharp) => Sharp): Promise<string> {
  const corners = Buffer.from([250, 20, 20, 20, 250, 20, 20, 20, 250, 200, 200, 30]);
  const image = sharp(corners, { raw: { width: 2, height: 2, channels: 3 } }).resize(SIDE, SIDE, {
    kernel: 'linear',
  });
  const file = path.join(dir, name);
  await encode(image).toFile(file);
  return file;
}

const header = async (file: string) => sharp(file).metadata();

describe('decode cost', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('charges nothing per input pixel where the decoder streams or shrinks on load', async () => {
    for (const file of [
      await write('baseline.jpg', (i) => i.jpeg()),
      await write('plain.png', (i) => i.png()),
      await write('lossy.webp', (i) => i.webp()),
    ]) {
      expect(heldBytesPerInputPixel(await header(file)), file).toBe(0);
      expect(decodeCost(await header(file), 1000)).toBe(estimatedBytes('decode', 1000));
    }
  });

  it('charges the whole coefficient buffer of a progressive JPEG (4:2:0: 1.5 samples of 2 bytes)', async () => {
    const file = await write('progressive.jpg', (i) => i.jpeg({ progressive: true }));
    expect(heldBytesPerInputPixel(await header(file))).toBe(3);
    const full = await write('progressive-444.jpg', (i) =>
      i.jpeg({ progressive: true, chromaSubsampling: '4:4:4' }),
    );
    expect(heldBytesPerInputPixel(await header(full))).toBe(6);
  });

  it('charges the whole image of an interlaced PNG, twice for 16-bit samples', async () => {
    const file = await write('interlaced.png', (i) => i.png({ progressive: true }));
    expect(heldBytesPerInputPixel(await header(file))).toBe(3);
    const deep = await write('interlaced-16.png', (i) => i.toColourspace('rgb16').png({ progressive: true }));
    expect(heldBytesPerInputPixel(await header(deep))).toBe(6);
  });

  it('refuses, as the input’s fault, a decode larger than eight budgets, and decodes a cheaper one', async () => {
    const limits = { maxInputPixels: 1e8, memory: new ImageMemoryBudget(1) }; // one decode may hold 8 MB
    const progressive = await write('big-progressive.jpg', (i) => i.jpeg({ progressive: true }));
    // 1600² × 3 bytes of coefficients = 7.3 MB, plus the 300² output: over 8 MB.
    await expect(decodeOnce(progressive, 300, 300, limits)).rejects.toThrow(InvalidInputError);
    await expect(decodeOnce(progressive, 300, 300, limits)).rejects.toThrow(
      /would take about 8 MB.*IMAGE_MEMORY_MB/,
    );
    const baseline = await write('big-baseline.jpg', (i) => i.jpeg());
    const decoded = await decodeOnce(baseline, 300, 300, limits);
    expect([decoded.width, decoded.height]).toEqual([300, 300]);
  });

  it('keeps a missing original transient (read by node, errno kept), not the input’s fault', async () => {
    const limits = { maxInputPixels: 1e8, memory: new ImageMemoryBudget(128) };
    await expect(decodeOnce(path.join(dir, 'vanished.jpg'), 300, 300, limits)).rejects.toThrow(
      TransientError,
    );
  });
});
