/**
 * Photo, painting or drawing, or digital/flat graphic — from measurements,
 * not a model: a short list of decision regions, each chosen on the labelled
 * set in bench/analysis-set (100 images from Debian packages) and each with
 * the precision it measured there as its confidence. A region answers only
 * if that precision is at least PRECISION_FLOOR (0.9); outside every region
 * the answer is `unknown`: on that set smooth photos, digital wallpapers and
 * scanned paintings share the same statistics, as do ink drawings on black
 * and grey clip art. Thresholds and figures: docs/analysis-medium.md.
 */
import type { TextureStatistics } from './texture-statistics.js';

export type MediumClass = 'photo' | 'painting-or-drawing' | 'digital-or-flat-graphic' | 'unknown';

/** Which rule decided: named in the raw report so a surprising answer can be traced. */
export type MediumRegion =
  | 'exact-flats'
  | 'clean-gradients'
  | 'drawing-score'
  | 'camera-texture'
  /** Exact flats in grey: line art or clip art, ambiguous on the set; answers `unknown`. */
  | 'grey-flats'
  | 'none';

export interface MediumEvidence extends TextureStatistics {
  /** Share of opaque pixels in the 8 most common colours (medium-hint.ts). */
  concentration: number;
  distinctColours: number;
}

export interface MediumDecision {
  medium: MediumClass;
  confidence: number;
  region: MediumRegion;
}

/**
 * The precision floor: a region answers only if its measured precision on the labelled set is at
 * least 0.9; anything else is `unknown`. The thresholds below are the simplest splits of the
 * measurements that meet it (docs/analysis-medium.md).
 */
export const PRECISION_FLOOR = 0.9;

/**
 * Exact flats on 40 % of pixels, in colour: 17 of 17 such images in the set are digital. In grey
 * (no saturation spread) the same flats are ambiguous: 12 ink drawings on black (Stellarium's
 * constellation figures) and 3 digital graphics, so a grey flat image is `unknown`. The most
 * flats in a photo is 34 % (fog).
 */
const FLAT_SHARE = 0.4;
/** Exact flats on 10 %+ with no noise floor, in colour: smooth digital gradients (4 of 4; grey photos are excluded). */
const GRADIENT_FLAT_SHARE = 0.1;
const CLEAN_NOISE_FLOOR = 1;
/** "In colour": the saturation spread of every colour image in the flat regions is 0.12 or more, of every grey one 0. */
const COLOUR_SPREAD = 0.05;
/**
 * A noise floor of 5+ is the texture that detailed photos (coins, rain drops, Hubble, a telescope
 * site) and the digitally painted landscapes share: there pixels alone cannot say photo, and the
 * drawing score decides. Below it, on the set, are photos and digital art only.
 */
const PAINT_NOISE_FLOOR = 5;
/**
 * nsfwjs "drawing" at or above this, with a noise floor of 5+ and few flats: 6 of 6 such images are
 * paintings. The photos scoring above it (camera 0.34, rocket 0.33, ladybird 0.19) have a noise
 * floor of 1–2; below 5 the score also fires on two textured digital illustrations, so a high score
 * there is `unknown`.
 */
const DRAWING_SCORE = 0.15;
const FEW_FLATS = 0.05;
/**
 * Camera texture: detail everywhere (12 %+ strong edges), no flats, and a noise floor a lens and
 * sensor leave: ≤ 9 when the drawing score is low (14 of 14 photos), below 5 without the score
 * (10 of 10; at 5–8 five of nine are painted landscapes).
 */
const PHOTO_EDGE_DENSITY = 0.12;
const PHOTO_MAX_NOISE_FLOOR = 9;
const PHOTO_MAX_FLATS = 0.1;

/**
 * Confidence of each decision: the precision of its region on the labelled
 * set, (correct + 1) / (decided + 2) so small regions do not claim
 * certainty. Fitted and measured on the same 100 images (no held-out set),
 * so optimistic: docs/analysis-medium.md gives a leave-one-source-out check.
 */
export const REGION_CONFIDENCE = {
  'exact-flats': 0.95, // 17 of 17, in colour
  'clean-gradients': 0.83, // 4 of 4
  'drawing-score': 0.88, // 6 of 6
  'camera-texture': 0.94, // 14 of 14, with the drawing score
  'camera-texture-without-score': 0.92, // 10 of 10, noise floor below 5
} as const;

function decided(
  medium: MediumClass,
  region: Exclude<MediumRegion, 'none' | 'grey-flats'>,
  drawing?: number,
): MediumDecision {
  const key = region === 'camera-texture' && drawing === undefined ? 'camera-texture-without-score' : region;
  return { medium, region, confidence: REGION_CONFIDENCE[key] };
}

/** `drawing` is nsfwjs's drawing probability when the models provider ran; without it one rule cannot fire. */
export function classifyMedium(evidence: MediumEvidence, drawing?: number): MediumDecision {
  const { exactFlatShare, noiseFloor, saturationSpread, edgeDensity } = evidence;
  const inColour = saturationSpread >= COLOUR_SPREAD;
  if (exactFlatShare >= FLAT_SHARE) {
    if (inColour) return decided('digital-or-flat-graphic', 'exact-flats');
    return { medium: 'unknown', confidence: 0, region: 'grey-flats' };
  }
  if (exactFlatShare >= GRADIENT_FLAT_SHARE && noiseFloor <= CLEAN_NOISE_FLOOR && inColour) {
    return decided('digital-or-flat-graphic', 'clean-gradients');
  }
  const artScore = drawing !== undefined && drawing >= DRAWING_SCORE;
  if (artScore && exactFlatShare < FEW_FLATS && noiseFloor >= PAINT_NOISE_FLOOR) {
    return decided('painting-or-drawing', 'drawing-score', drawing);
  }
  const maxNoiseFloor = drawing === undefined ? PAINT_NOISE_FLOOR - 1 : PHOTO_MAX_NOISE_FLOOR;
  const cameraTexture =
    exactFlatShare < PHOTO_MAX_FLATS && edgeDensity >= PHOTO_EDGE_DENSITY && noiseFloor <= maxNoiseFloor;
  // A drawing score above the cut disagrees with the texture: say unknown rather than pick one.
  if (cameraTexture && !artScore) return decided('photo', 'camera-texture', drawing);
  return { medium: 'unknown', confidence: 0, region: 'none' };
}
