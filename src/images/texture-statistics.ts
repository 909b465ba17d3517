/**
 * Edge, texture and colour-spread statistics for telling how an image was
 * made. What they separate on the labelled set (docs/analysis-medium.md):
 * clean digital art leaves exactly flat pixels and no noise floor; camera
 * photos of detailed scenes leave dense edges over a low noise floor. What
 * they do not: smooth photos, digital wallpapers and paintings look alike.
 * Measured on one small sample (at most 256 px long side, libvips' default shrink)
 * of the decoded image; colour and texture together take a median 17–35 ms
 * on a loaded 2-core machine.
 */
import { rawInput, type DecodedImage } from './decode-once.js';

export interface TextureStatistics {
  /** Share of pixels whose 4 neighbours all have exactly their grey value (clean digital flats). */
  exactFlatShare: number;
  /** Share of pixels with a strong gradient (|dx| + |dy| > 48 grey levels). */
  edgeDensity: number;
  /** Of the strong edges, the share that is a one-pixel step (vector art) rather than a ramp (lens blur). */
  stepEdgeShare: number;
  /** Median |Laplacian| over smooth pixels (gradient ≤ 12): the noise floor where nothing is drawn. */
  noiseFloor: number;
  /** Of smooth pixels, the share with a Laplacian of 1–3 grey levels: fine grain (sensor noise, JPEG, canvas). */
  fineGrainShare: number;
  /** Standard deviation of HSV saturation over pixels (0–1): one palette or many. */
  saturationSpread: number;
}

const SAMPLE_PX = 256;
const STRONG_GRADIENT = 48;
const SMOOTH_GRADIENT = 12;
/** A step edge puts this share of the 3-pixel rise into one pixel. */
const STEP_RATIO = 0.8;

const round = (value: number) => Number(value.toFixed(4));

function saturationSpread(data: Buffer, channels: number): number {
  let sum = 0;
  let sumSquares = 0;
  let n = 0;
  for (let o = 0; o + 2 < data.length; o += channels) {
    const max = Math.max(data[o]!, data[o + 1]!, data[o + 2]!);
    const min = Math.min(data[o]!, data[o + 1]!, data[o + 2]!);
    const s = max === 0 ? 0 : (max - min) / max;
    sum += s;
    sumSquares += s * s;
    n++;
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSquares / n - mean * mean));
}

/** Across the 3-pixel span before i to two after (stride 1: across x; width: across y), is the rise in one pixel? */
function isStepEdge(grey: Buffer, i: number, stride: number): boolean {
  const rise = Math.abs(grey[i + 2 * stride]! - grey[i - stride]!);
  const steepest = Math.max(
    Math.abs(grey[i + stride]! - grey[i]!),
    Math.abs(grey[i]! - grey[i - stride]!),
    Math.abs(grey[i + 2 * stride]! - grey[i + stride]!),
  );
  return rise !== 0 && steepest >= STEP_RATIO * rise;
}

/** Counts over interior pixels of the grey sample. */
function greyCounts(grey: Buffer, width: number, height: number) {
  let exactFlat = 0;
  let strong = 0;
  let step = 0;
  let smooth = 0;
  let fineGrain = 0;
  const laplacianHistogram = new Array<number>(256).fill(0);
  for (let y = 2; y < height - 2; y++) {
    for (let x = 2; x < width - 2; x++) {
      const i = y * width + x;
      const p = grey[i]!;
      const left = grey[i - 1]!;
      const right = grey[i + 1]!;
      const up = grey[i - width]!;
      const down = grey[i + width]!;
      if (p === left && p === right && p === up && p === down) exactFlat++;
      const dx = right - left;
      const dy = down - up;
      const gradient = Math.abs(dx) + Math.abs(dy);
      if (gradient > STRONG_GRADIENT) {
        strong++;
        if (isStepEdge(grey, i, Math.abs(dx) >= Math.abs(dy) ? 1 : width)) step++;
      } else if (gradient <= SMOOTH_GRADIENT) {
        smooth++;
        const laplacian = Math.min(255, Math.abs(4 * p - left - right - up - down));
        laplacianHistogram[laplacian]!++;
        if (laplacian >= 1 && laplacian <= 3) fineGrain++;
      }
    }
  }
  return { exactFlat, strong, step, smooth, fineGrain, laplacianHistogram };
}

function histogramMedian(histogram: readonly number[], total: number): number {
  let seen = 0;
  for (const [value, count] of histogram.entries()) {
    seen += count;
    if (seen * 2 >= total) return value;
  }
  return 0;
}

export async function textureStatistics(image: DecodedImage): Promise<TextureStatistics> {
  // Flattened onto white so a cut-out's transparent surround counts as the flat field it is shown on;
  // never enlarged (interpolation would invent smooth ramps).
  const sample = rawInput(image)
    .flatten({ background: '#ffffff' })
    .resize(SAMPLE_PX, SAMPLE_PX, { fit: 'inside', withoutEnlargement: true });
  const [colour, grey] = await Promise.all([
    sample.clone().raw().toBuffer({ resolveWithObject: true }),
    sample.clone().greyscale().raw().toBuffer({ resolveWithObject: true }),
  ]);
  const { width, height } = grey.info;
  // Tiny images (a 1×1 pixel) have no interior: every share is 0, which the classifier calls unknown.
  const interior = Math.max(1, Math.max(0, width - 4) * Math.max(0, height - 4));
  const counts = greyCounts(grey.data, width, height);
  return {
    exactFlatShare: round(counts.exactFlat / interior),
    edgeDensity: round(counts.strong / interior),
    stepEdgeShare: round(counts.strong === 0 ? 0 : counts.step / counts.strong),
    noiseFloor: histogramMedian(counts.laplacianHistogram, counts.smooth),
    fineGrainShare: round(counts.smooth === 0 ? 0 : counts.fineGrain / counts.smooth),
    saturationSpread: round(saturationSpread(colour.data, colour.info.channels)),
  };
}
