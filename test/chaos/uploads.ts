/**
 * Uploads for the chaos scenarios, made at test time: variations of the
 * samples in samples/images (each with its own bytes, so deduplication does
 * not short-cut the work) and tiny generated images for the overload run.
 * Every upload says what must become of it.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import type { FakeUpload } from '../helpers/fake-main-api.js';
import { SAMPLE } from '../helpers/image-fixtures.js';

/** What must become of an upload: completed, or failed for good with this error class. */
export type Expectation = 'completed' | 'INVALID_INPUT' | 'GONE' | 'completed-or-INVALID_INPUT';

export interface ChaosUpload extends FakeUpload {
  label: string;
  expect: Expectation;
}

const FOLDER: Record<string, string> = {
  profile: 'profiles',
  header: 'headers',
  logo: 'logos',
  product: 'products',
  event: 'events',
  site: 'sites',
};

export function tempPath(id: number, role: string, ext: string, userId = 1 + (id % 50)): string {
  return `/temp_images/${FOLDER[role] ?? 'misc'}/${userId}-${role}-1704110400-${id}.${ext}`;
}

interface Recipe {
  sample: string;
  role: string;
  ext: 'jpg' | 'png' | 'webp';
  widths: [number, number];
}

const RECIPES: Recipe[] = [
  { sample: 'hubble-deep-field.jpg', role: 'product', ext: 'jpg', widths: [500, 1100] },
  { sample: 'cat-chelsea.png', role: 'profile', ext: 'png', widths: [260, 450] },
  { sample: 'scikit-image-logo.png', role: 'logo', ext: 'png', widths: [200, 400] },
  { sample: 'market-street-sign.jpg', role: 'event', ext: 'webp', widths: [400, 900] },
  { sample: 'coffee-cup.png', role: 'site', ext: 'jpg', widths: [300, 600] },
  { sample: 'street-sign-text.png', role: 'header', ext: 'jpg', widths: [640, 1000] },
];

/**
 * `count` good uploads with ids from `firstId`, cycling through the samples and
 * roles at varied widths and qualities. `scale` (0–1] shrinks them for quick runs.
 */
export async function goodUploads(count: number, firstId: number, scale = 1): Promise<ChaosUpload[]> {
  const sources = new Map(RECIPES.map((r) => [r.sample, fs.readFileSync(SAMPLE(r.sample))]));
  const uploads: ChaosUpload[] = [];
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    const recipe = RECIPES[i % RECIPES.length]!;
    const [min, max] = recipe.widths;
    const width = Math.round((min + ((i * 37) % (max - min))) * scale);
    const image = sharp(sources.get(recipe.sample)).resize({ width, withoutEnlargement: true });
    const file =
      recipe.ext === 'png'
        ? await image.png({ compressionLevel: 6 }).toBuffer()
        : recipe.ext === 'webp'
          ? await image.webp({ quality: 70 + (i % 25) }).toBuffer()
          : await image.jpeg({ quality: 70 + (i % 25) }).toBuffer();
    uploads.push({
      id,
      label: `good ${recipe.sample} ${width}px as .${recipe.ext} (${recipe.role})`,
      imagePath: tempPath(id, recipe.role, recipe.ext),
      file,
      expect: 'completed',
    });
  }
  return uploads;
}

/** `count` tiny distinct PNGs (a colour and a stripe each): the overload run's uploads. */
export async function tinyUploads(count: number, firstId: number): Promise<ChaosUpload[]> {
  const [width, height] = [48, 32];
  const uploads: ChaosUpload[] = [];
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    const pixels = Buffer.alloc(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      const inStripe = p % width >= i % 40 && p % width < (i % 40) + 8;
      pixels.set(
        inStripe ? [255 - (i % 200), i % 256, 40] : [(i * 47) % 256, (i * 91) % 256, (i * 13) % 256],
        p * 3,
      );
    }
    const file = await sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    uploads.push({
      id,
      label: `tiny #${i}`,
      imagePath: tempPath(id, 'profile', 'png'),
      file,
      expect: 'completed',
    });
  }
  return uploads;
}

/** Uploads whose file the main API no longer has (404): they must fail as GONE with one cleanup. */
export function goneUploads(count: number, firstId: number): ChaosUpload[] {
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i,
    label: 'gone: the main API answers 404 for the file',
    imagePath: tempPath(firstId + i, 'product', 'jpg'),
    expect: 'GONE' as const,
  }));
}
