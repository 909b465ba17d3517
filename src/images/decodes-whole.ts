/**
 * Whether an image's data decodes to its end. Used only where a cut-off
 * cannot be told from the end of the bytes (a body delimited by its
 * connection closing): libvips reads a truncated JPEG as "premature end",
 * with grey below the cut, and a truncated PNG as a read error. It decodes
 * small (shrink-on-load) inside the image memory budget; an image too large
 * to decode at all is left to the decode step, which refuses it by name.
 */
import fsp from 'node:fs/promises';
import sharp from 'sharp';
import { decodeCost } from './decode-cost.js';
import type { DecodeLimits } from './decode-once.js';

const CHECK_SIZE = 64;

export async function decodesWhole(file: string, { maxInputPixels, memory }: DecodeLimits): Promise<boolean> {
  // Read by node: a read error keeps its errno and is not mistaken for a cut-off.
  const bytes = await fsp.readFile(file);
  try {
    const header = await sharp(bytes, { limitInputPixels: false }).metadata();
    const cost = decodeCost(header, CHECK_SIZE * CHECK_SIZE);
    if (cost > memory.decodeLimitBytes()) return true;
    await memory.run(cost, () =>
      sharp(bytes, { failOn: 'truncated', limitInputPixels: maxInputPixels })
        .resize(CHECK_SIZE, CHECK_SIZE, { fit: 'inside' })
        .raw()
        .toBuffer(),
    );
    return true;
  } catch {
    return false;
  }
}
