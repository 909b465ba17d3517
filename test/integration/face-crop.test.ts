/**
 * Cover crops keep faces whole. A wide scene (1800×600: the coffee cup on
 * the left, the cat on the right). libvips' attention strategy alone crops
 * the square thumbnail and grid around the cup's centre; when a vision
 * service (a real HTTP server on 127.0.0.1) reports a face at the left edge,
 * the crops take the left edge with it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

const FACE = [0.12, 0.2, 0.08, 0.25];

async function wideScene(file: string): Promise<void> {
  const cat = await sharp(SAMPLE('cat-chelsea.png')).resize({ height: 600 }).toBuffer();
  const coffee = await sharp(SAMPLE('coffee-cup.png'))
    .resize({ height: 600 })
    .modulate({ saturation: 1.6 })
    .toBuffer();
  const catWidth = (await sharp(cat).metadata()).width!;
  await sharp({ create: { width: 1800, height: 600, channels: 3, background: '#8a8a8a' } })
    .composite([
      { input: coffee, left: 0, top: 0 },
      { input: cat, left: 1800 - catWidth, top: 0 },
    ])
    .png()
    .toFile(file);
}

/** Mean absolute difference of two images at 64×64 greyscale: small when they show the same thing. */
async function difference(a: Buffer | string, b: Buffer | string): Promise<number> {
  const grey = (input: Buffer | string) =>
    sharp(input).resize(64, 64, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [x, y] = await Promise.all([grey(a), grey(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

describe('face-aware cover crops', () => {
  let dir: string;
  let scene: string;
  let vision: http.Server;
  let visionUrl: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-faces-'));
    scene = path.join(dir, 'scene.png');
    await wideScene(scene);
    vision = http.createServer((request, response) => {
      request.resume().on('end', () => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ version: 'faces-1', faces: [{ score: 0.95, box: FACE }] }));
      });
    });
    await new Promise<void>((resolve) => vision.listen(0, '127.0.0.1', resolve));
    visionUrl = `http://127.0.0.1:${(vision.address() as AddressInfo).port}/faces`;
  });
  afterAll(async () => {
    await new Promise((resolve) => vision.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Each run gets its own database: the same bytes in one database would reuse the first run's variants. */
  async function squareCrops(providers: string): Promise<string[]> {
    const t = await createTestDatabase('sqlite');
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, `storage-${providers}`),
      ANALYSIS_PROVIDERS: providers,
      ANALYSIS_REMOTE_URL: visionUrl,
    });
    const [id] = await ingestFiles(t.db, [scene], { userId: 3, role: 'product', isTestData: true });
    await withPipeline(config, t.db, new FsObjectStore(config.storageDir), (steps) =>
      makeWorker(t.db, steps).run(),
    );
    const variants = await listVariants(t.db, id!);
    await t.drop(); // the files stay on disk; the Db is this test's
    return variants
      .filter((v) => (v.size === 'thumbnail' || v.size === 'grid') && v.format === 'jpeg')
      .map((v) => path.join(config.storageDir, v.path));
  }

  const square = (left: number) => sharp(scene).extract({ left, top: 0, width: 600, height: 600 }).toBuffer();

  it('without face data, leaves the crop to libvips attention (which does not keep the left edge)', async () => {
    const crops = await squareCrops('local');
    expect(crops).toHaveLength(2);
    for (const crop of crops) expect(await difference(crop, await square(0)), crop).toBeGreaterThan(20);
  }, 60_000);

  it('crops thumbnail and grid around the reported face instead', async () => {
    const crops = await squareCrops('local,remote');
    expect(crops).toHaveLength(2);
    for (const crop of crops) {
      expect(await difference(crop, await square(0)), crop).toBeLessThan(5);
      expect(await difference(crop, await square(1200)), crop).toBeGreaterThan(20);
    }
  }, 60_000);
});
