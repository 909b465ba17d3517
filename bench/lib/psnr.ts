/** Peak signal-to-noise ratio of an encoded image against a raw RGB reference of the same size. */
import sharp from 'sharp';

export async function psnr(
  encoded: Buffer,
  reference: { data: Buffer; width: number; height: number },
): Promise<number> {
  const decoded = await sharp(encoded)
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .resize(reference.width, reference.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  let squares = 0;
  for (let i = 0; i < reference.data.length; i++) {
    const d = decoded[i]! - reference.data[i]!;
    squares += d * d;
  }
  const mse = squares / reference.data.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}
