/**
 * The medium of an image from its pixels: colour concentration (below) and
 * the edge and texture statistics (texture-statistics.ts), classified by
 * medium-classifier.ts. The models provider re-classifies the same evidence
 * with nsfwjs's drawing score (derive-labels.ts refinedMedium).
 *
 * Colour concentration is measured on a 128 px nearest-neighbour sample (no
 * interpolation inventing in-between colours), 6 bits per channel, or 8-bit
 * grey levels for greyscale images.
 */
import { rawInput, type DecodedImage } from './decode-once.js';
import {
  classifyMedium,
  type MediumClass,
  type MediumDecision,
  type MediumEvidence,
} from './medium-classifier.js';
import { textureStatistics } from './texture-statistics.js';

/**
 * What `medium_detected` reports: the class, except that a digital/flat
 * graphic uploaded as a logo (or with real transparency) keeps the value
 * `logo` it always had (the alt text's "Logo").
 */
export type Medium = MediumClass | 'logo';

export interface MediumHint extends MediumDecision {
  /** The reported value (`logo` or the class). */
  value: Medium;
  /** Whether `logo` replaces a digital/flat graphic (logo role or transparency). */
  logoLike: boolean;
  evidence: MediumEvidence;
}

const SAMPLE_PX = 128;

function isGrey(data: Buffer): boolean {
  for (let o = 0; o < data.length; o += 4) {
    if (Math.abs(data[o]! - data[o + 1]!) > 6 || Math.abs(data[o + 1]! - data[o + 2]!) > 6) return false;
  }
  return true;
}

export async function colourConcentration(
  image: DecodedImage,
): Promise<{ concentration: number; distinctColours: number }> {
  const { data } = await rawInput(image)
    .ensureAlpha()
    .resize(SAMPLE_PX, SAMPLE_PX, { fit: 'inside', kernel: 'nearest' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = isGrey(data);
  const counts = new Map<number, number>();
  let opaque = 0;
  for (let o = 0; o < data.length; o += 4) {
    if (data[o + 3]! < 128) continue;
    const key = grey
      ? data[o + 1]!
      : ((data[o]! >> 2) << 12) | ((data[o + 1]! >> 2) << 6) | (data[o + 2]! >> 2);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    opaque++;
  }
  const top = [...counts.values()].sort((a, b) => b - a).slice(0, 8);
  const concentration = opaque === 0 ? 1 : top.reduce((sum, n) => sum + n, 0) / opaque;
  return { concentration: Number(concentration.toFixed(3)), distinctColours: counts.size };
}

export async function measureMedium(image: DecodedImage): Promise<MediumEvidence> {
  const [colour, texture] = await Promise.all([colourConcentration(image), textureStatistics(image)]);
  return { ...colour, ...texture };
}

/** The hint for a decision: `logo` for a logo-like digital graphic, else the class itself. */
export function hintFor(decision: MediumDecision, evidence: MediumEvidence, logoLike: boolean): MediumHint {
  const value: Medium = logoLike && decision.medium === 'digital-or-flat-graphic' ? 'logo' : decision.medium;
  return { ...decision, value, logoLike, evidence };
}

/** From pixels only (the local provider, and the models provider before the drawing score). */
export async function mediumHint(image: DecodedImage, isLogoRole: boolean): Promise<MediumHint> {
  const evidence = await measureMedium(image);
  return hintFor(classifyMedium(evidence), evidence, isLogoRole || image.hasTransparency);
}
