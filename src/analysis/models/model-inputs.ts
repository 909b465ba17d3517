/**
 * The pixels each model wants: a letterboxed square for the detectors (they
 * squash their input to a square, and a squashed wide picture hides its
 * faces), a plain 224×224 for the moderation classifier; and the way back
 * from letterboxed boxes to fractions of the image.
 */
import { rawInput, type DecodedImage } from '../../images/decode-once.js';
import type { Box, ModelResult, RgbPixels } from './model-protocol.js';

export const DETECT_PX = 640;

/** Boxes from the letterboxed square back to fractions of the image; boxes wholly in the padding are dropped. */
export function unletterbox(result: ModelResult, image: { width: number; height: number }): ModelResult {
  const scale = DETECT_PX / Math.max(image.width, image.height);
  const sx = DETECT_PX / (image.width * scale);
  const sy = DETECT_PX / (image.height * scale);
  const map = <T extends { box: Box }>(items: T[] | undefined): T[] | undefined =>
    items
      ?.map((item) => {
        const [x, y, w, h] = item.box;
        const x0 = Math.max(0, x * sx);
        const y0 = Math.max(0, y * sy);
        const x1 = Math.min(1, (x + w) * sx);
        const y1 = Math.min(1, (y + h) * sy);
        const box = [x0, y0, x1 - x0, y1 - y0].map((v) => Number(v.toFixed(4))) as Box;
        return { ...item, box };
      })
      .filter((item) => item.box[2] > 0 && item.box[3] > 0);
  return { ...result, objects: map(result.objects), faces: map(result.faces) };
}

export async function rgb(
  image: DecodedImage,
  width: number,
  height: number,
  fit: 'inside' | 'fill',
): Promise<RgbPixels> {
  // 'inside' is letterboxed to the full box, content top-left (unletterbox() maps boxes back).
  const resize =
    fit === 'inside'
      ? { fit: 'contain' as const, position: 'left top', background: '#808080' }
      : { fit: 'fill' as const };
  const { data, info } = await rawInput(image)
    .flatten({ background: '#ffffff' })
    .resize(width, height, resize)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  // A fresh buffer: sharp's may share a pooled ArrayBuffer, which cannot be transferred.
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}
