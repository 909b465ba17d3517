/**
 * The item's local original, its one decode (and, for logos, its background
 * removal), made by whichever step needs them first and kept in the run's
 * state (RunState) for the next. A step that runs in a later claim (after a
 * crash) fetches and decodes again.
 */
import { decodeForSizes, type DecodedImage } from '../images/decode-once.js';
import type { ImageRuntime } from '../images/image-runtime.js';
import { eagerSizesFor } from '../images/on-demand-sizes.js';
import { sizesFor, type SizeName } from '../images/presets.js';
import type { BackgroundRemoval } from '../images/remove-background.js';
import { parseRole } from '../media-roles.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { StepContext } from './step.js';

export interface DecodeOptions {
  storage: ObjectStore;
  maxInputPixels: number;
  images: ImageRuntime;
  /**
   * ON_DEMAND_SIZES: the decode is at the scale of the sizes made here, not
   * of those /serve renders later from the original itself, but never so
   * small that the eager variants lose quality (decodeForSizes). For a 12 MP
   * photo with zoom on demand, 2001 px instead of 2400 px: 30 % fewer
   * pixels for the analysis and every eager variant (bench/eager-outputs:
   * their bytes and PSNR against the decode at every size's scale).
   */
  onDemandSizes?: readonly SizeName[];
}

export async function decodedItem(context: StepContext, options: DecodeOptions): Promise<DecodedImage> {
  if (context.run.decoded) return context.run.decoded;
  const { media } = context;
  const role = parseRole(media.role);
  if (!media.bulk_path || !media.width || !media.height || !role) {
    throw new Error(
      `item ${media.id} has not been retrieved yet (no original in bulk/); requeue it from the retrieve step`,
    );
  }
  const decoded = await decodeForSizes(
    await localOriginal(context, options),
    eagerSizesFor(role, media.width, media.height, options.onDemandSizes ?? []),
    media.width,
    media.height,
    { maxInputPixels: options.maxInputPixels, memory: options.images.memory },
    sizesFor(role, media.width, media.height),
  );
  context.run.decoded = decoded;
  return decoded;
}

/** A local file of the item's original (sharp reads paths): retrieve's, or fetched once per run. */
export async function localOriginal(
  context: StepContext,
  options: Pick<DecodeOptions, 'storage'>,
): Promise<string> {
  const { media, run } = context;
  if (!media.bulk_path) {
    throw new Error(
      `item ${media.id} has no original in bulk/ (not retrieved, or expired); requeue it from the retrieve step`,
    );
  }
  run.original ??= await options.storage.localFile(media.bulk_path);
  return run.original.path;
}

/** The logo with its border-connected background removed, or undefined when there is none to remove. */
export async function logoWithoutBackground(
  context: StepContext,
  options: DecodeOptions,
): Promise<BackgroundRemoval | undefined> {
  if (context.run.removal !== undefined) return context.run.removal ?? undefined;
  const decoded = await decodedItem(context, options);
  const removal = await options.images.pixels.removeBackground(decoded);
  context.run.removal = removal ?? null;
  return removal;
}
