/**
 * The one decode of an item: read the original once (shrink-on-load to the
 * largest size any variant needs), auto-orient from EXIF, convert to 8-bit
 * sRGB, and keep the raw pixels. Every variant and every analysis is derived
 * from this intermediate; metadata (EXIF, GPS, ICC) cannot survive a raw
 * buffer, so nothing private leaks into outputs.
 */
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { InvalidInputError, classify } from '../errors.js';
import { estimatedBytes, withImageMemory } from './memory-budget.js';
import { intermediateScale, type SizeName } from './presets.js';

export interface DecodedImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
  /** True only when some pixel is not fully opaque (an unused alpha channel is dropped). */
  hasTransparency: boolean;
}

export function rawInput(image: Pick<DecodedImage, 'data' | 'width' | 'height' | 'channels'>): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

export async function decodeOnce(
  file: string,
  targetWidth: number,
  targetHeight: number,
  maxInputPixels: number,
): Promise<DecodedImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // Only the first frame of animations (sharp's default page); the pixel limit is checked before decoding.
    decoded = await withImageMemory(estimatedBytes('decode', targetWidth * targetHeight), () =>
      sharp(file, { limitInputPixels: maxInputPixels })
        .autoOrient()
        .resize(targetWidth, targetHeight, { fit: 'fill', kernel: 'lanczos3' })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
  } catch (error) {
    throw asDecodeError(error);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 && info.channels !== 4)
    throw new InvalidInputError(`unexpected ${info.channels}-channel image after sRGB conversion`);
  const image: DecodedImage = {
    data,
    width: info.width,
    height: info.height,
    channels: info.channels,
    hasTransparency: false,
  };
  if (image.channels === 4) {
    const { isOpaque } = await rawInput(image).stats();
    if (!isOpaque) return { ...image, hasTransparency: true };
    const opaque = await rawInput(image).removeAlpha().raw().toBuffer();
    return { ...image, data: opaque, channels: 3 };
  }
  return image;
}

/** libvips decode failures are the input's fault; a full disk or missing file is not. */
function asDecodeError(error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return classify(error);
  const message = (error as Error).message ?? String(error);
  if (/pixel limit/i.test(message))
    return new InvalidInputError(`image is larger than the pixel limit (MAX_INPUT_PIXELS): ${message}`, {
      cause: error,
    });
  return new InvalidInputError(`image data is corrupt, truncated or unsupported: ${message.split('\n')[0]}`, {
    cause: error,
  });
}

/** The one decode, at the scale the largest of `sizes` needs (width × height: the oriented original). */
export async function decodeForSizes(
  file: string,
  sizes: readonly SizeName[],
  width: number,
  height: number,
  maxInputPixels: number,
): Promise<DecodedImage> {
  const scale = intermediateScale(sizes, width, height);
  return decodeOnce(
    file,
    Math.max(1, Math.round(width * scale)),
    Math.max(1, Math.round(height * scale)),
    maxInputPixels,
  );
}
