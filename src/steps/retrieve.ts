/**
 * Step 1, retrieve: store the original as bulk/YYYY-MM-DD/<id>.<ext>
 * atomically, with the size cap enforced while streaming, the real type
 * sniffed from the bytes, a sha256, and the header probed (dimensions, alpha,
 * pixel limit). The date comes from the item's creation, so a re-run writes
 * the same key. On a bucket the upload's local spool file is kept for the
 * rest of the run (RunState.original): analyse and resize download nothing.
 */
import type { Readable } from 'node:stream';
import {
  EXTENSION,
  MIME_TYPE,
  SNIFF_BYTES,
  sniffImageType,
  type AcceptedImageType,
} from '../images/sniff-image-type.js';
import { NotHandledHereError, TransientError } from '../errors.js';
import { decodesWhole } from '../images/decodes-whole.js';
import type { ImageRuntime } from '../images/image-runtime.js';
import { probeImage } from '../images/probe-image.js';
import type { MediaRecord } from '../db/records.js';
import type { ObjectStore } from '../storage/object-store.js';
import { HashingLimiter, peekStream } from '../storage/stream-guards.js';
import type { Step, StepContext, StepOutcome } from './step.js';

/** An upload's bytes, opened. */
export interface OpenedSource {
  stream: Readable;
  /**
   * The end of the bytes is known (a file, a Content-Length, chunked framing).
   * False when the body simply ends with its connection: a download cut short
   * would look complete, so the image is checked to decode whole.
   */
  endKnown: boolean;
}

/** Opens the upload's bytes wherever they are (a local file, the main API). */
export type SourceOpener = (media: MediaRecord, context: StepContext) => Promise<OpenedSource>;

export interface RetrieveOptions {
  storage: ObjectStore;
  maxUploadBytes: number;
  maxInputPixels: number;
  images: ImageRuntime;
  openers: Partial<Record<MediaRecord['source'], SourceOpener>>;
  /** Until when main API calls are held back (MainApiClient.heldUntilMs). */
  mainApiHeldUntilMs?: () => number;
}

export function bulkPath(media: Pick<MediaRecord, 'id' | 'created_at'>, extension: string): string {
  const day = new Date(media.created_at).toISOString().slice(0, 10);
  return `bulk/${day}/${media.id}.${extension}`;
}

export function createRetrieveStep(options: RetrieveOptions): Step {
  return {
    name: 'retrieve',
    heldUntilMs: (media) => (media.source === 'main_api' ? (options.mainApiHeldUntilMs?.() ?? 0) : 0),
    async run(context: StepContext): Promise<StepOutcome> {
      const { media } = context;
      const open = options.openers[media.source];
      if (!open)
        throw new NotHandledHereError(
          `this process cannot retrieve "${media.source}" uploads (is MAIN_API_URL set?); left for a worker that can`,
        );
      const opened = await open(media, context);
      const { type, relativePath, limiter } = await storeOriginal(options, context, opened.stream);
      const stored = context.run.original!.path;
      const limits = { maxInputPixels: options.maxInputPixels, memory: options.images.memory };
      // Before the probe: a body cut inside the header would otherwise be judged "not an image".
      if (!opened.endKnown && !(await decodesWhole(stored, limits)))
        throw new TransientError(
          `the download of ${media.source_path} ended with its connection and the image does not decode whole: cut short? will retry`,
        );
      const probe = await probeImage(stored, options.maxInputPixels);
      return {
        status: 'completed',
        note: `${type} ${probe.width}×${probe.height}, ${limiter.bytes} bytes → ${relativePath}`,
        mediaChanges: {
          mime_type: MIME_TYPE[type],
          file_size: limiter.bytes,
          sha256: limiter.digest(),
          width: probe.width,
          height: probe.height,
          has_alpha: probe.hasAlpha,
          bulk_path: relativePath,
        },
        // Every byte of the upload passed through the limiter on its way into bulk/.
        cost: { bytes_read: limiter.bytes, bytes_written: limiter.bytes },
      };
    },
  };
}

/** Sniffs the type from the first bytes, then streams the whole upload to bulk/ through the size cap and hash. */
async function storeOriginal(
  options: RetrieveOptions,
  { media, run }: StepContext,
  source: Readable,
): Promise<{ type: AcceptedImageType; relativePath: string; limiter: HashingLimiter }> {
  const limiter = new HashingLimiter(options.maxUploadBytes);
  let peeked: Awaited<ReturnType<typeof peekStream>>;
  let type: AcceptedImageType;
  try {
    peeked = await peekStream(source, SNIFF_BYTES);
    type = sniffImageType(peeked.head);
  } catch (error) {
    source.destroy();
    throw error;
  }
  const relativePath = bulkPath(media, EXTENSION[type]);
  try {
    const { local } = await options.storage.putKeepingLocal(relativePath, peeked.stream, {
      transforms: [limiter],
      contentType: MIME_TYPE[type],
    });
    await run.original?.release();
    run.original = local;
  } finally {
    // A write that failed before reading (mkdir on a full disk) must still close the download.
    peeked.stream.destroy();
    source.destroy();
  }
  return { type, relativePath, limiter };
}
