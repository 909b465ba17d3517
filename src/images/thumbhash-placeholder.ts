/**
 * The ThumbHash placeholder (evanw's `thumbhash`): computed once, at resize,
 * from the item's one decode scaled to at most 100×100 RGBA; rendered back to
 * a tiny PNG data URL for the manifest.
 */
import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash';
import { rawInput, type DecodedImage } from './decode-once.js';

/** The ThumbHash of a decoded image, base64 (ThumbHash takes at most 100×100 pixels). */
export async function computeThumbHash(
  image: Pick<DecodedImage, 'data' | 'width' | 'height' | 'channels'>,
): Promise<string> {
  const { data, info } = await rawInput(image)
    .resize(100, 100, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

/** The ThumbHash decoded to its own tiny image (≤ 32 px a side), as a PNG data URL. */
export async function thumbHashDataUrl(thumbhash: string): Promise<string> {
  const { w, h, rgba } = thumbHashToRGBA(Buffer.from(thumbhash, 'base64'));
  const png = await sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width: w, height: h, channels: 4 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
