/**
 * The one thing a paid provider sends about an item: the decoded pixels as
 * a JPEG of at most 1024 px on the long side. Built from raw pixels, so it
 * carries no metadata (EXIF, GPS, ICC, XMP), and transparency is flattened
 * on white as the remote provider does.
 */
import { rawInput, type DecodedImage } from '../images/decode-once.js';

export const MAX_SENT_PX = 1024;

export function analysisJpeg(image: DecodedImage): Promise<Buffer> {
  return rawInput(image)
    .flatten({ background: '#ffffff' })
    .resize(MAX_SENT_PX, MAX_SENT_PX, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 85 })
    .toBuffer();
}
