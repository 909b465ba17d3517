/**
 * Derives every variant from the decoded intermediate: each size is resized
 * once (to raw pixels), then encoded to each format from that. Nothing here
 * reads the original again.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { decodeForSizes, rawInput, type DecodeLimits, type DecodedImage } from './decode-once.js';
import { cropAroundFaces, type FractionBox } from './face-crop.js';
import { estimatedBytes, type ImageMemoryBudget } from './memory-budget.js';
import {
  ENCODER_SETTINGS,
  JPEG_BACKGROUND,
  SIZES,
  type Background,
  type OutputFormat,
  type SizeName,
} from './presets.js';

export interface RenderedVariant {
  size: SizeName;
  format: OutputFormat;
  bg: Background;
  width: number;
  height: number;
  data: Buffer;
  etag: string;
}

export async function resizeForSize(
  image: DecodedImage,
  size: SizeName,
  faces: readonly FractionBox[] = [],
): Promise<DecodedImage> {
  const preset = SIZES[size];
  const position = preset.crop === 'attention' ? sharp.strategy.attention : 'centre';
  const window =
    preset.crop === 'attention' && preset.fit === 'cover'
      ? cropAroundFaces(image, { width: preset.width, height: preset.height }, faces)
      : undefined;
  const { data, info } = await (window ? rawInput(image).extract(window) : rawInput(image))
    .resize(preset.width, preset.height, { fit: preset.fit, position, withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { ...image, data, width: info.width, height: info.height };
}

export function encode(
  memory: ImageMemoryBudget,
  image: DecodedImage,
  format: OutputFormat,
): Promise<Buffer> {
  const bytes = estimatedBytes(format, image.width * image.height);
  return memory.run(bytes, () => encodeNow(image, format));
}

async function encodeNow(image: DecodedImage, format: OutputFormat): Promise<Buffer> {
  let pipeline = rawInput(image);
  if (format === 'jpeg' && image.channels === 4) pipeline = pipeline.flatten({ background: JPEG_BACKGROUND });
  switch (format) {
    case 'avif':
      return pipeline.avif(ENCODER_SETTINGS.avif).toBuffer();
    case 'webp':
      return pipeline
        .webp({ ...ENCODER_SETTINGS.webp, ...(image.channels === 4 ? { alphaQuality: 100 } : {}) })
        .toBuffer();
    case 'jpeg':
      return pipeline.jpeg(ENCODER_SETTINGS.jpeg).toBuffer();
    case 'png':
      return pipeline.png(ENCODER_SETTINGS.png).toBuffer();
  }
}

/** A strong validator: the content hash of the bytes served. */
export function etagOf(data: Buffer): string {
  return etagOfDigest(createHash('sha256').update(data).digest());
}

/** etagOf, from the sha256 of the bytes (computed while they streamed). */
export function etagOfDigest(sha256: Buffer): string {
  return `"${sha256.toString('base64url').slice(0, 27)}"`;
}

export async function renderVariants(
  memory: ImageMemoryBudget,
  image: DecodedImage,
  sizes: readonly SizeName[],
  formats: readonly OutputFormat[],
  bg: Background,
  faces: readonly FractionBox[] = [],
): Promise<RenderedVariant[]> {
  const variants: RenderedVariant[] = [];
  for (const size of sizes) {
    const resized = await resizeForSize(image, size, faces);
    const encoded = await Promise.all(formats.map((format) => encode(memory, resized, format)));
    formats.forEach((format, i) => {
      const data = encoded[i]!;
      variants.push({
        size,
        format,
        bg,
        width: resized.width,
        height: resized.height,
        data,
        etag: etagOf(data),
      });
    });
  }
  return variants;
}

/**
 * One variant straight from the original file (an on-demand size, or the
 * `render` command's pre-render): decoded at the scale this one size needs,
 * resized and encoded exactly as renderVariants would, through the same raw
 * intermediate, so no metadata survives. width × height: the oriented original.
 */
export async function renderOneVariant(
  file: string,
  original: { width: number; height: number },
  variant: { size: SizeName; format: OutputFormat },
  limits: DecodeLimits,
): Promise<RenderedVariant> {
  const decoded = await decodeForSizes(file, [variant.size], original.width, original.height, limits);
  const resized = await resizeForSize(decoded, variant.size);
  const data = await encode(limits.memory, resized, variant.format);
  return {
    ...variant,
    bg: 'original',
    width: resized.width,
    height: resized.height,
    data,
    etag: etagOf(data),
  };
}
