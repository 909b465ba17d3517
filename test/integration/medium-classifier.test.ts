/**
 * The medium classifier on real images from the labelled set
 * (bench/analysis-set), decoded as the analyse step decodes them: clear
 * cases get a class and their region's confidence; disagreeing or weak
 * evidence gets `unknown`. The local provider reports what the classifier
 * decides; the drawing score (what the models provider adds) is what lets a
 * detailed painted texture be called a painting (or a photo) at all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analysisInputFor } from '../../src/analysis/analysis-input.js';
import { createLocalProvider } from '../../src/analysis/local-provider.js';
import { refinedMedium, styleClassification } from '../../src/analysis/models/derive-labels.js';
import { PRECISION_FLOOR, REGION_CONFIDENCE, classifyMedium } from '../../src/images/medium-classifier.js';
import { mediumHint, type MediumHint } from '../../src/images/medium-hint.js';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';
import type { Role } from '../../src/media-roles.js';
import { ROOT } from '../helpers/processes.js';

const SET = (file: string) => path.join(ROOT, 'bench/analysis-set', file);
const LIMITS = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(128) };

async function hintOf(file: string, role: Role = 'product'): Promise<MediumHint> {
  const input = await analysisInputFor(SET(file), role, LIMITS);
  return mediumHint(input.image, role === 'logo');
}

describe('medium classifier on the labelled set', () => {
  it('calls clean clip art a digital/flat graphic (exact flats), and a logo when it is one', async () => {
    const lemon = await hintOf('openclipart-lemon.png');
    expect(lemon).toMatchObject({
      medium: 'digital-or-flat-graphic',
      value: 'digital-or-flat-graphic',
      region: 'exact-flats',
      confidence: REGION_CONFIDENCE['exact-flats'],
    });
    expect(lemon.evidence.exactFlatShare).toBeGreaterThan(0.4);
    expect(await hintOf('openclipart-lemon.png', 'logo')).toMatchObject({
      medium: 'digital-or-flat-graphic',
      value: 'logo',
    });
  });

  it('calls a smooth digital wallpaper a digital graphic (clean gradients, no noise floor)', async () => {
    const hint = await hintOf('plasma-Altai.jpg');
    expect(hint).toMatchObject({ medium: 'digital-or-flat-graphic', region: 'clean-gradients' });
    expect(hint.evidence.noiseFloor).toBeLessThanOrEqual(1);
  });

  it('the local provider reports a detailed photo with a low noise floor as a photo, with its own measured confidence', async () => {
    const provider = createLocalProvider();
    const report = await provider.analyse(
      await analysisInputFor(SET('skimage-coffee.jpg'), 'product', LIMITS),
    );
    await provider.close();
    expect(report.fields.medium_detected).toEqual({
      value: 'photo',
      confidence: REGION_CONFIDENCE['camera-texture-without-score'],
    });
    expect((report.raw as { medium: MediumHint }).medium.region).toBe('camera-texture');
  });

  it('says unknown for the acrylic painting of elephants (the colour-only hint called it a photo)', async () => {
    const elephants = await hintOf('mate-Elephants.jpg');
    expect(elephants).toMatchObject({ medium: 'unknown', value: 'unknown', confidence: 0, region: 'none' });
    // Its texture is heavier than any photo's the photo region admits.
    expect(elephants.evidence.noiseFloor).toBeGreaterThan(9);
    expect(styleClassification([], [], 0, elephants, 0.2)).toEqual({ value: 'unknown', confidence: 0 });
  });

  it('says unknown for ink drawings on black, whose grey flats are also those of clip art', async () => {
    // Stellarium's constellation figures: before the precision floor they were answered digital-or-flat-graphic.
    const orion = await hintOf('stellarium-western-orion.jpg');
    expect(orion).toMatchObject({ medium: 'unknown', confidence: 0, region: 'grey-flats' });
    expect(orion.evidence.exactFlatShare).toBeGreaterThan(0.4);
    expect(orion.evidence.saturationSpread).toBe(0);
    // The drawing score does not rescue it: grey flats stay unknown.
    expect(refinedMedium(orion, 0.75)).toMatchObject({ medium: 'unknown', region: 'grey-flats' });
  });

  it('without the drawing score a painted landscape is unknown, not photo; with it, painting-or-drawing', async () => {
    const altar = await hintOf('wesnoth-grim-altar.jpg');
    // Pixels alone: a detailed texture with the noise floor (5) that photos and paintings share.
    expect(altar).toMatchObject({ medium: 'unknown', confidence: 0, region: 'none' });
    expect(altar.evidence.noiseFloor).toBeGreaterThanOrEqual(5);
    const refined = refinedMedium(altar, 0.83);
    expect(refined).toMatchObject({
      medium: 'painting-or-drawing',
      region: 'drawing-score',
      confidence: REGION_CONFIDENCE['drawing-score'],
    });
    expect(styleClassification([], [], 0, refined, 0.2).value).toBe('painting or drawing');
    // A low drawing score admits that texture as a photo, at the confidence measured with the score.
    expect(refinedMedium(altar, 0.01)).toMatchObject({
      medium: 'photo',
      region: 'camera-texture',
      confidence: REGION_CONFIDENCE['camera-texture'],
    });
  });

  it('every region in the code answers with a confidence at or above the precision floor, or is unknown', () => {
    // (correct + 1) / (decided + 2) of a region that met the floor; clean-gradients (4 of 4) is the smallest.
    for (const confidence of Object.values(REGION_CONFIDENCE)) expect(confidence).toBeGreaterThanOrEqual(0.8);
    expect(PRECISION_FLOOR).toBe(0.9);
  });

  it('says unknown when the drawing score disagrees with a photo texture that has no paint-like noise', async () => {
    // The rocket case of issue 19: a photo that nsfwjs scored 0.79 "drawing".
    const cups = await hintOf('plasma-ColorfulCups.jpg');
    expect(cups).toMatchObject({ medium: 'photo', region: 'camera-texture' });
    expect(cups.evidence.noiseFloor).toBeLessThan(5);
    expect(refinedMedium(cups, 0.79)).toMatchObject({ medium: 'unknown', confidence: 0 });
  });

  it('keeps the pixel decision when the models provider has no drawing score', async () => {
    const cups = await hintOf('plasma-ColorfulCups.jpg');
    expect(refinedMedium(cups, undefined)).toBe(cups);
    expect(classifyMedium(cups.evidence)).toMatchObject({ medium: 'photo' });
  });

  it('says unknown for an image too small to measure (a 3×3 pixel PNG)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medium-'));
    try {
      const file = path.join(dir, 'tiny.png');
      await sharp({ create: { width: 3, height: 3, channels: 3, background: '#336699' } })
        .png()
        .toFile(file);
      const input = await analysisInputFor(file, 'product', LIMITS);
      const hint = await mediumHint(input.image, false);
      expect(hint).toMatchObject({ medium: 'unknown', region: 'none' });
      expect(hint.evidence).toMatchObject({ exactFlatShare: 0, edgeDensity: 0, noiseFloor: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
