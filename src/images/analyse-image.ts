/**
 * Local analysis of a decoded item: everything the worker can compute itself
 * in well under a second, from native libvips operations on small copies.
 */
import { computeThumbHash } from './thumbhash-placeholder.js';
import { rawInput, type DecodedImage } from './decode-once.js';
import { colourStats, moodKeywords, palette, type PaletteColour } from './colour-analysis.js';
import { perceptualHash } from './perceptual-hash.js';
import { qualityScore, type QualityComponents } from './quality-score.js';
import { siteContext, type SiteContext } from './site-context.js';
import type { BackgroundRemoval } from './remove-background.js';

export interface LocalAnalysis {
  dominantColors: string[];
  palette: PaletteColour[];
  brandColors: string[] | undefined;
  qualityScore: number;
  quality: QualityComponents;
  moodKeywords: string[];
  placeholderHash: string;
  perceptualHash: string;
  hasTransparency: boolean;
  siteContext: SiteContext | undefined;
}

const SAMPLE_PX = 64;

async function sampleOf(
  image: DecodedImage,
): Promise<{ data: Buffer; channels: number; width: number; height: number }> {
  const { data, info } = await rawInput(image)
    .resize(SAMPLE_PX, SAMPLE_PX, { fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels, width: info.width, height: info.height };
}

/** Brand colours: the logo's own palette with the removed background (or transparent pixels) left out. */
async function brandColours(image: DecodedImage, removal: BackgroundRemoval | undefined): Promise<string[]> {
  const source = removal
    ? {
        data: Buffer.from(removal.rgba),
        width: image.width,
        height: image.height,
        channels: 4 as const,
        hasTransparency: true,
      }
    : image;
  const sample = await sampleOf(source);
  return palette(sample, 4)
    .filter((colour) => colour.share >= 0.03)
    .map((colour) => colour.hex.toUpperCase());
}

export async function analyseImage(
  image: DecodedImage,
  original: { width: number; height: number; role: string },
  removal: BackgroundRemoval | undefined,
): Promise<LocalAnalysis> {
  const sample = await sampleOf(image);
  const colours = palette(sample, 6);
  const quality = await qualityScore(rawInput(image), original.width, original.height);
  return {
    dominantColors: colours.map((c) => c.hex),
    palette: colours,
    brandColors: original.role === 'logo' ? await brandColours(image, removal) : undefined,
    qualityScore: quality.score,
    quality: quality.components,
    moodKeywords: moodKeywords(colourStats(sample)),
    placeholderHash: await computeThumbHash(image),
    perceptualHash: await perceptualHash(rawInput(image)),
    hasTransparency: image.hasTransparency,
    siteContext:
      original.role === 'site'
        ? siteContext(original.width, original.height, quality.components.sharpness)
        : undefined,
  };
}
