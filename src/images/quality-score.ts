/**
 * A 0–100 technical quality score from four measured components, all computed
 * by libvips on a ≤ 1024 px greyscale copy: sharpness (variance of the
 * Laplacian), exposure (mean and clipped shares), noise (difference from a
 * 3×3 median) and resolution. The components are kept with the score.
 */
import sharp, { type Sharp } from 'sharp';

export interface QualityComponents {
  sharpness: number;
  exposure: number;
  noise: number;
  resolution: number;
  laplacianVariance: number;
  meanLuminance: number;
  clippedShare: number;
  noiseLevel: number;
  megapixels: number;
}

export interface QualityScore {
  score: number;
  components: QualityComponents;
}

const WEIGHTS = { sharpness: 0.4, exposure: 0.25, noise: 0.15, resolution: 0.2 };
const clamp = (value: number) => Math.max(0, Math.min(100, value));

export async function qualityScore(
  image: Sharp,
  originalWidth: number,
  originalHeight: number,
): Promise<QualityScore> {
  const { data, info } = await image
    .greyscale()
    .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  const grey = () => sharp(data, { raw });
  // sharp's stats() measures its *input* and ignores queued operations: every derived image is materialised first.
  const statsOf = async (pixels: Buffer) => (await sharp(pixels, { raw }).stats()).channels[0]!;
  const laplacian = await grey()
    .convolve({ width: 3, height: 3, kernel: [0, 1, 0, 1, -4, 1, 0, 1, 0], offset: 128 })
    .raw()
    .toBuffer();
  const laplacianVariance = (await statsOf(laplacian)).stdev ** 2;
  const median = await grey().median(3).raw().toBuffer();
  const difference = await grey()
    .composite([{ input: median, raw, blend: 'difference' }])
    .raw()
    .toBuffer();
  const noiseLevel = (await statsOf(difference)).mean;
  const meanLuminance = (await statsOf(data)).mean;
  const clippedShare = clippedFraction(data, info.channels);
  const megapixels = (originalWidth * originalHeight) / 1e6;

  const components = {
    // log-scaled: variance ~10 is soft, ~1000 is crisp.
    sharpness: clamp(((Math.log10(Math.max(1, laplacianVariance)) - 1) / 2) * 100),
    exposure: clamp(100 - Math.abs(meanLuminance - 118) * 0.8 - clippedShare * 200),
    noise: clamp(100 - noiseLevel * 12),
    resolution: clamp((megapixels / 2) * 100),
  };
  const score = Math.round(
    components.sharpness * WEIGHTS.sharpness +
      components.exposure * WEIGHTS.exposure +
      components.noise * WEIGHTS.noise +
      components.resolution * WEIGHTS.resolution,
  );
  const round = (v: number) => Number(v.toFixed(2));
  return {
    score,
    components: {
      sharpness: round(components.sharpness),
      exposure: round(components.exposure),
      noise: round(components.noise),
      resolution: round(components.resolution),
      laplacianVariance: round(laplacianVariance),
      meanLuminance: round(meanLuminance),
      clippedShare: round(clippedShare),
      noiseLevel: round(noiseLevel),
      megapixels: round(megapixels),
    },
  };
}

/** Share of pixels crushed to black or blown to white (sampled: every 16th pixel is plenty). */
function clippedFraction(grey: Buffer, channels: number): number {
  let clipped = 0;
  let counted = 0;
  for (let i = 0; i < grey.length; i += 16 * channels) {
    counted++;
    if (grey[i]! <= 2 || grey[i]! >= 253) clipped++;
  }
  return clipped / Math.max(1, counted);
}
