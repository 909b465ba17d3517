/**
 * The real pipeline (retrieve → analyse → resize → callback) over real photos
 * and generated edge cases, through the real worker loop and database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { listVariants, findAnalysis } from '../../src/db/media-outputs.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { SIZES, type SizeName } from '../../src/images/presets.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import type { Role } from '../../src/media-roles.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

describe('image pipeline', () => {
  let t: TestDatabase;
  let dir: string;
  let storage: FsObjectStore;
  const ids: Record<string, number> = {};

  async function ingest(name: string, bytes: Buffer | string, role: Role): Promise<number> {
    const file = typeof bytes === 'string' ? bytes : fixtures.writeFixture(path.join(dir, 'in'), name, bytes);
    const [id] = await ingestFiles(t.db, [file], { userId: 5, role, isTestData: true });
    ids[name] = id!;
    return id!;
  }

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-pipeline-'));
    fs.mkdirSync(path.join(dir, 'in'));
    const config = loadConfig({
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      MAX_INPUT_PIXELS: '40000000',
    });
    storage = new FsObjectStore(config.storageDir);
    await ingest('cat.png', fixtures.SAMPLE('cat-chelsea.png'), 'product');
    await ingest('hubble.jpg', fixtures.SAMPLE('hubble-deep-field.jpg'), 'event');
    await ingest('coffee-site.png', fixtures.SAMPLE('coffee-cup.png'), 'site');
    await ingest('rotated.jpg', await fixtures.exifRotatedJpeg(), 'profile');
    await ingest('cmyk.jpg', await fixtures.cmykJpeg(), 'product');
    await ingest('sixteen.png', await fixtures.sixteenBitPng(), 'product');
    await ingest('transparent-logo.png', await fixtures.transparentLogo(), 'logo');
    await ingest('flat-logo.png', await fixtures.flatLogoOnWhite(), 'logo');
    await ingest('gps.jpg', await fixtures.jpegWithGps(), 'header');
    await ingest('one-pixel.png', await fixtures.onePixel(), 'product');
    await ingest('animated.gif', await fixtures.animatedGif(), 'product');
    await ingest('bomb.png', fixtures.pngBombHeader(), 'product');
    await ingest(
      'truncated.jpg',
      fixtures.truncated(fs.readFileSync(fixtures.SAMPLE('hubble-deep-field.jpg'))),
      'product',
    );
    await ingest('empty.jpg', Buffer.alloc(0), 'product');
    await ingest('text.jpg', Buffer.from('hello, I am not a picture'), 'product');
    await ingest(
      'vector.png',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      'product',
    );
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps, { concurrency: 2 }).run());
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function variantsOf(name: string) {
    return listVariants(t.db, ids[name]!);
  }
  async function metadataOf(relativePath: string) {
    return sharp(storage.pathOf(relativePath)).metadata();
  }

  it('completes every good image and fails every bad one as INVALID_INPUT with a readable reason', async () => {
    const good = [
      'cat.png',
      'hubble.jpg',
      'coffee-site.png',
      'rotated.jpg',
      'cmyk.jpg',
      'sixteen.png',
      'transparent-logo.png',
      'flat-logo.png',
      'gps.jpg',
      'one-pixel.png',
      'animated.gif',
    ];
    for (const name of good) expect((await findMedia(t.db, ids[name]!))!.status, name).toBe('completed');
    const reasons: Record<string, RegExp> = {
      'bomb.png': /50000×50000 \(2500\.0 megapixels\), over the limit MAX_INPUT_PIXELS=40000000/,
      'truncated.jpg': /corrupt, truncated or unsupported/,
      'empty.jpg': /the file is empty/,
      'text.jpg': /not an image/,
      'vector.png': /SVG is not accepted/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      const checklist = (await findChecklist(t.db, ids[name]!))!;
      expect(checklist.state, name).toBe('failed');
      expect(checklist.last_error_class, name).toBe('INVALID_INPUT');
      expect(checklist.last_error, name).toMatch(reason);
    }
  });

  it('makes the sizes of each role, in AVIF, WebP and JPEG, each fitting its box and never upscaled', async () => {
    const expected: Record<string, SizeName[]> = {
      'cat.png': ['thumbnail', 'small', 'grid', 'detail'], // product, but 451×300 is not larger than detail: no zoom
      'hubble.jpg': ['thumbnail', 'small', 'grid', 'detail', 'header'], // event, 1000×872: no zoom
      'coffee-site.png': ['thumbnail', 'small', 'grid', 'detail', 'header'],
      'gps.jpg': ['thumbnail', 'small', 'grid', 'detail', 'header'],
    };
    for (const [name, sizes] of Object.entries(expected)) {
      const variants = await variantsOf(name);
      const media = (await findMedia(t.db, ids[name]!))!;
      expect([...new Set(variants.map((v) => v.size))].sort(), name).toEqual([...sizes].sort());
      for (const variant of variants) {
        expect(['avif', 'webp', 'jpeg']).toContain(variant.format);
        const meta = await metadataOf(variant.path);
        const box = SIZES[variant.size as SizeName];
        expect({ w: meta.width, h: meta.height }).toEqual({ w: variant.width, h: variant.height });
        expect(meta.width).toBeLessThanOrEqual(Math.min(box.width, media.width!));
        expect(meta.height).toBeLessThanOrEqual(Math.min(box.height, media.height!));
        expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(variant.format);
        expect(fs.statSync(storage.pathOf(variant.path)).size).toBe(variant.bytes);
      }
    }
    const hubble = await variantsOf('hubble.jpg');
    expect(hubble.find((v) => v.size === 'thumbnail')).toMatchObject({ width: 300, height: 300 });
    expect(hubble.find((v) => v.size === 'detail')).toMatchObject({ width: 1000, height: 872 });
    expect(hubble.find((v) => v.size === 'header')).toMatchObject({ width: 1000, height: 640 });
  });

  it('adds zoom only when the original is larger than detail', async () => {
    const dir2 = path.join(dir, 'zoom');
    fs.mkdirSync(dir2);
    const big = await sharp(fixtures.SAMPLE('hubble-deep-field.jpg')).resize(3000).jpeg().toBuffer();
    const id = await ingest('big.jpg', big, 'product');
    // Made eagerly only when it is not an on-demand size (ON_DEMAND_SIZES defaults to zoom: on-demand-variants.test.ts).
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: storage.root, ON_DEMAND_SIZES: 'none' });
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps).run());
    const zoom = (await listVariants(t.db, id)).filter((v) => v.size === 'zoom');
    expect(zoom.map((v) => [v.format, v.width, v.height]).sort()).toEqual([
      ['avif', 2400, 2093],
      ['jpeg', 2400, 2093],
      ['webp', 2400, 2093],
    ]);
  });

  it('turns an EXIF-rotated photo upright', async () => {
    const detail = (await variantsOf('rotated.jpg')).find((v) => v.size === 'detail' && v.format === 'jpeg')!;
    expect({ w: detail.width, h: detail.height }).toEqual({ w: 200, h: 400 });
    const { data } = await sharp(storage.pathOf(detail.path)).raw().toBuffer({ resolveWithObject: true });
    const top = [data[(10 * 200 + 100) * 3]!, data[(10 * 200 + 100) * 3 + 2]!];
    const bottom = [data[(390 * 200 + 100) * 3]!, data[(390 * 200 + 100) * 3 + 2]!];
    expect(top[0]).toBeGreaterThan(200); // red on top (was the left half)
    expect(bottom[1]).toBeGreaterThan(200); // blue below
  });

  it('converts CMYK and 16-bit inputs to 8-bit sRGB', async () => {
    for (const name of ['cmyk.jpg', 'sixteen.png']) {
      for (const variant of await variantsOf(name)) {
        const meta = await metadataOf(variant.path);
        expect(meta.space, `${name} ${variant.path}`).toBe('srgb');
        expect(meta.depth).toBe('uchar');
        expect(meta.channels).toBe(3);
      }
    }
    const cmyk = (await variantsOf('cmyk.jpg')).find((v) => v.size === 'detail' && v.format === 'jpeg')!;
    // Reference: libvips' own CMYK → sRGB conversion of the same file.
    const reference = await sharp(
      await sharp(await fixtures.cmykJpeg())
        .toColourspace('srgb')
        .png()
        .toBuffer(),
    ).stats();
    const output = await sharp(storage.pathOf(cmyk.path)).stats();
    for (let c = 0; c < 3; c++)
      expect(Math.abs(output.channels[c]!.mean - reference.channels[c]!.mean)).toBeLessThan(3);
  });

  it('keeps a logo’s transparency in PNG, WebP and AVIF, and lays JPEG on white', async () => {
    const variants = await variantsOf('transparent-logo.png');
    expect(new Set(variants.map((v) => v.format))).toEqual(new Set(['avif', 'webp', 'jpeg', 'png']));
    for (const variant of variants.filter((v) => v.bg === 'original')) {
      const meta = await metadataOf(variant.path);
      expect(meta.hasAlpha, variant.path).toBe(variant.format !== 'jpeg');
    }
    const jpeg = variants.find((v) => v.format === 'jpeg' && v.size === 'detail')!;
    const data = await sharp(storage.pathOf(jpeg.path)).raw().toBuffer();
    expect([data[0], data[1], data[2]]).toEqual([255, 255, 255]);
    // Its background is already transparent: nothing to remove.
    expect(variants.some((v) => v.bg === 'removed')).toBe(false);
  });

  it('removes a flat logo background into bg=removed variants and finds its brand colours', async () => {
    const variants = await variantsOf('flat-logo.png');
    const removed = variants.filter((v) => v.bg === 'removed');
    expect(new Set(removed.map((v) => v.format))).toEqual(new Set(['avif', 'webp', 'png']));
    const png = removed.find((v) => v.format === 'png' && v.size === 'detail')!;
    const { data, info } = await sharp(storage.pathOf(png.path))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3]!;
    expect(alphaAt(5, 5)).toBe(0); // the white border is gone
    expect(alphaAt(info.width / 2 - 80, info.height / 2)).toBe(255); // the wordmark stays
    const analysis = (await findAnalysis(t.db, ids['flat-logo.png']!))!;
    const brand = JSON.parse(analysis.brand_colors as string) as string[];
    expect(brand.length).toBeGreaterThanOrEqual(1);
    expect(brand).not.toContain('#FFFFFF');
    expect(brand[0]).toMatch(/^#1[C-E]3[4-6]5[6-8]$/);
  });

  it('strips EXIF and GPS from every output and keeps only a safe summary', async () => {
    for (const variant of await variantsOf('gps.jpg')) {
      const meta = await metadataOf(variant.path);
      expect(meta.exif, variant.path).toBeUndefined();
      expect(meta.icc).toBeUndefined();
    }
    const analysis = (await findAnalysis(t.db, ids['gps.jpg']!))!;
    const summary = JSON.parse(analysis.exif_summary as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ camera: 'TestCam X100', software: 'fixture' });
    expect(JSON.stringify(analysis)).not.toMatch(/gps|latitude|longitude|48\/1/i);
  });

  it('handles a 1×1 image and takes the first frame of an animation', async () => {
    const tiny = await variantsOf('one-pixel.png');
    expect(tiny.length).toBeGreaterThan(0);
    for (const variant of tiny) expect({ w: variant.width, h: variant.height }).toEqual({ w: 1, h: 1 });
    const gif = (await variantsOf('animated.gif')).find((v) => v.format === 'jpeg' && v.size === 'detail')!;
    const meta = await metadataOf(gif.path);
    expect(meta.pages ?? 1).toBe(1);
    const data = await sharp(storage.pathOf(gif.path)).raw().toBuffer();
    expect(data[1]).toBeGreaterThan(200); // green: the first frame
    expect(data[0]).toBeLessThan(60);
  });

  it('analyses locally: palette, quality components, mood, placeholder and perceptual hashes, site context', async () => {
    const cat = (await findAnalysis(t.db, ids['cat.png']!))!;
    expect(JSON.parse(cat.dominant_colors as string)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^#[0-9a-f]{6}$/)]),
    );
    expect(cat.quality_score).toBeGreaterThanOrEqual(0);
    expect(cat.quality_score).toBeLessThanOrEqual(100);
    const raw = JSON.parse(cat.raw_responses as string) as {
      local: { quality: Record<string, number>; moodKeywords: string[] };
    };
    expect(Object.keys(raw.local.quality)).toEqual(
      expect.arrayContaining(['sharpness', 'exposure', 'noise', 'resolution', 'laplacianVariance']),
    );
    expect(JSON.parse(cat.mood_keywords as string)).toContain('warm');
    expect(cat.perceptual_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(cat.placeholder_hash as string, 'base64').length).toBeGreaterThan(10);
    expect(cat.site_context).toBeNull();
    const site = (await findAnalysis(t.db, ids['coffee-site.png']!))!;
    expect(JSON.parse(site.site_context as string)).toMatchObject({ placement: 'content', aspectRatio: 1.5 });
  });
});
