/** Reads an image's header with sharp: dimensions (after EXIF orientation), alpha, pixel limit. */
import fsp from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { InvalidInputError } from '../errors.js';

export interface ImageProbe {
  width: number;
  height: number;
  hasAlpha: boolean;
}

export async function probeImage(file: string, maxInputPixels: number): Promise<ImageProbe> {
  // Read by node first: a full file table (EMFILE), EIO or a vanished file keeps its errno and is
  // TRANSIENT. Only what the decoder then says about bytes we hold in memory is the input's fault.
  const bytes = await fsp.readFile(file);
  let metadata: Metadata;
  try {
    // Header only: the pixel limit is checked below, before anything is decoded.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new InvalidInputError(`not a readable image: ${(error as Error).message}`, { cause: error });
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  if (!width || !height) throw new InvalidInputError('not a readable image: it has no dimensions');
  if (width * height > maxInputPixels) {
    const megapixels = ((width * height) / 1e6).toFixed(1);
    throw new InvalidInputError(
      `image is ${width}×${height} (${megapixels} megapixels), over the limit MAX_INPUT_PIXELS=${maxInputPixels}`,
    );
  }
  return {
    width,
    height,
    hasAlpha: metadata.hasAlpha ?? false,
  };
}
