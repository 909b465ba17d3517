/**
 * The one decode of an item: read the original once (shrink-on-load to the
 * largest size any variant needs), auto-orient from EXIF, convert to 8-bit
 * sRGB, and keep the raw pixels, within the image memory budget at what the
 * decode really holds (decode-cost.ts). Every variant and every analysis is derived
 * from this intermediate; metadata (EXIF, GPS, ICC) cannot survive a raw
 * buffer, so nothing private leaks into outputs.
 */
import fsp from 'node:fs/promises';
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { InvalidInputError, classify } from '../errors.js';
import { decodeCost } from './decode-cost.js';
import { DECODE_LIMIT_BUDGETS, type ImageMemoryBudget } from './memory-budget.js';
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

/** What bounds a decode: the pixel limit (MAX_INPUT_PIXELS) and the process's image memory budget. */
export interface DecodeLimits {
  maxInputPixels: number;
  memory: ImageMemoryBudget;
}

export async function decodeOnce(
  file: string,
  targetWidth: number,
  targetHeight: number,
  { maxInputPixels, memory }: DecodeLimits,
): Promise<DecodedImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // Read by node, not libvips: a vanished file or an EIO keeps its errno (not the input's fault).
    const bytes = await fsp.readFile(file);
    const cost = await costOf(bytes, targetWidth * targetHeight, memory.decodeLimitBytes());
    // Only the first frame of animations (sharp's default page); the pixel limit is checked before
    // decoding. sharp reads sequentially by default, so decoders that can stream do.
    decoded = await memory.run(cost, () =>
      sharp(bytes, { limitInputPixels: maxInputPixels })
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

/** What the decode will hold (decode-cost.ts); a file that needs more than one decode may take is refused. */
async function costOf(bytes: Buffer, outputPixels: number, limitBytes: number): Promise<number> {
  const header = await sharp(bytes, { limitInputPixels: false }).metadata();
  const cost = decodeCost(header, outputPixels);
  if (cost > limitBytes) {
    const [mb, limitMb] = [cost, limitBytes].map((b) => Math.round(b / 2 ** 20));
    throw new InvalidInputError(
      `decoding this ${header.width}×${header.height} ${header.format === 'heif' ? 'AVIF' : header.format} would take about ${mb} MB, ` +
        `more than one decode may (${limitMb} MB: ${DECODE_LIMIT_BUDGETS} × IMAGE_MEMORY_MB); ` +
        'upload a smaller image, or a baseline JPEG or a non-interlaced PNG, which decode in less',
    );
  }
  return cost;
}

/** libvips decode failures are the input's fault; a full disk or missing file is not. */
function asDecodeError(error: unknown): Error {
  if (error instanceof InvalidInputError) return error;
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

/**
 * The smallest scale that keeps a decode off JPEG's shrink-on-load (libjpeg
 * decoding at ½, ¼ or ⅛ in the DCT): a shrink of less than 2.
 */
function belowHalfShrink(width: number, height: number): number {
  const side = Math.max(width, height);
  return (Math.floor(side / 2) + 1) / side;
}

/**
 * The one decode, at the scale the largest of `sizes` needs (width × height:
 * the oriented original). With `sameQualityAs` (every size of the item, when
 * some of them are made on demand later): no smaller than needed to keep
 * the quality that decode would have had. A smaller scale would let JPEG's
 * shrink-on-load blur the eager variants (up to 0.6 dB PSNR in detail,
 * bench/eager-outputs) where the decode at every size's scale did not use it.
 */
export async function decodeForSizes(
  file: string,
  sizes: readonly SizeName[],
  width: number,
  height: number,
  limits: DecodeLimits,
  sameQualityAs?: readonly SizeName[],
): Promise<DecodedImage> {
  let scale = intermediateScale(sizes, width, height);
  if (sameQualityAs) {
    const everySize = intermediateScale(sameQualityAs, width, height);
    scale = Math.min(everySize, Math.max(scale, belowHalfShrink(width, height)));
  }
  return decodeOnce(
    file,
    Math.max(1, Math.round(width * scale)),
    Math.max(1, Math.round(height * scale)),
    limits,
  );
}
