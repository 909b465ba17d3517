/**
 * Photo or flat art? No shipped model tells them apart reliably; a colour
 * statistic does: flat art and logos put most pixels in a few exact colours,
 * photos spread them over thousands (sensor noise, gradients). Measured on a
 * 128 px nearest-neighbour sample (no interpolation inventing in-between
 * colours), 6 bits per channel, or 8-bit grey levels for greyscale images.
 * A black sky (astronomy) is concentrated but has many distinct colours, so
 * both numbers count.
 */
import { rawInput, type DecodedImage } from './decode-once.js';

export type Medium = 'photo' | 'drawing-or-flat-art' | 'logo';

export interface MediumHint {
  medium: Medium;
  confidence: number;
  /** Share of opaque pixels in the 8 most common colours. */
  concentration: number;
  distinctColours: number;
}

const SAMPLE_PX = 128;
const FLAT_THRESHOLD = 0.35;
/** Distinct colours at which a sample no longer looks flat at all. */
const MANY_COLOURS = 1500;

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

export async function mediumHint(image: DecodedImage, isLogoRole: boolean): Promise<MediumHint> {
  const { concentration, distinctColours } = await colourConcentration(image);
  const flatness = concentration * (1 - Math.min(1, distinctColours / MANY_COLOURS));
  const flat = flatness >= FLAT_THRESHOLD;
  // 0.5 at the threshold, rising to 0.95 far from it on either side.
  const distance = Math.min(1, Math.abs(flatness - FLAT_THRESHOLD) / FLAT_THRESHOLD);
  const confidence = Number((0.5 + 0.45 * distance).toFixed(2));
  const medium: Medium = !flat
    ? 'photo'
    : isLogoRole || image.hasTransparency
      ? 'logo'
      : 'drawing-or-flat-art';
  return { medium, confidence, concentration, distinctColours };
}
