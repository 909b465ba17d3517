/**
 * The image memory budget bounds real decodes: two 64-megapixel progressive
 * JPEGs (each holds ~190 MB of DCT coefficients however small the output)
 * decoded at once in a child process take turns, so its peak RSS is about one
 * decode's, not two. Measured on 2 cores: ~300 MB taking turns, ~490 MB
 * together (glibc and jemalloc alike); the bound sits between with ~100 MB
 * to spare either side.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = path.join(import.meta.dirname, '../helpers/decode-memory-child.ts');
const BOUND_MB = 400;

async function progressiveJpeg(file: string): Promise<void> {
  // Soft blobs: texture for the coder, ~2 MB at 8000×8000.
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
  await sharp(cells, { raw: { width: 40, height: 40, channels: 3 } })
    .resize(8000, 8000, { kernel: 'cubic' })
    .jpeg({ quality: 80, progressive: true })
    .toFile(file);
}

describe('decode memory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-decode-memory-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`keeps two huge progressive JPEGs decoded at once under ${BOUND_MB} MB peak RSS (they take turns)`, async () => {
    const first = path.join(dir, 'a.jpg');
    await progressiveJpeg(first);
    const second = path.join(dir, 'b.jpg');
    fs.copyFileSync(first, second);
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', CHILD, first, second], {
      encoding: 'utf8',
      env: { ...process.env, IMAGE_MEMORY_MB: '128' },
    });
    const { peakRssMb } = JSON.parse(stdout.trim().split('\n').pop()!) as { peakRssMb: number };
    expect(peakRssMb).toBeLessThan(BOUND_MB);
  }, 120_000);
});
