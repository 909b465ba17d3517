/**
 * The item's one decode (and, for logos, its background removal), made by
 * whichever step needs it first and kept in the run's scratch space for the
 * next. A step that runs in a later claim (after a crash) decodes again.
 */
import { decodeForSizes, type DecodedImage } from '../images/decode-once.js';
import { removeBackgroundInThread } from '../images/pixel-thread.js';
import { sizesFor } from '../images/presets.js';
import type { BackgroundRemoval } from '../images/remove-background.js';
import { parseRole } from '../media-roles.js';
import type { Storage } from '../storage/storage.js';
import type { StepContext } from './step.js';

export interface DecodeOptions {
  storage: Storage;
  maxInputPixels: number;
}

export async function decodedItem(context: StepContext, options: DecodeOptions): Promise<DecodedImage> {
  const cached = context.scratch.get('decoded') as DecodedImage | undefined;
  if (cached) return cached;
  const { media } = context;
  const role = parseRole(media.role);
  if (!media.bulk_path || !media.width || !media.height || !role) {
    throw new Error(
      `item ${media.id} has not been retrieved yet (no original in bulk/); requeue it from the retrieve step`,
    );
  }
  const decoded = await decodeForSizes(
    options.storage.absolutePath(media.bulk_path),
    sizesFor(role, media.width, media.height),
    media.width,
    media.height,
    options.maxInputPixels,
  );
  context.scratch.set('decoded', decoded);
  return decoded;
}

/** The logo with its border-connected background removed, or undefined when there is none to remove. */
export async function logoWithoutBackground(
  context: StepContext,
  options: DecodeOptions,
): Promise<BackgroundRemoval | undefined> {
  if (context.scratch.has('removal')) return context.scratch.get('removal') as BackgroundRemoval | undefined;
  const decoded = await decodedItem(context, options);
  const removal = await removeBackgroundInThread(decoded);
  context.scratch.set('removal', removal);
  return removal;
}
