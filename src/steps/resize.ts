/**
 * Step 3, resize: every variant of the item's role from its one decode
 * (less the sizes made on demand, ON_DEMAND_SIZES),
 * written atomically under library/user_<uid>/<data_type>/img/, recorded in
 * media_variants. Logos also get bg=removed variants when their background
 * could be removed. Identical bytes already processed for the same role are
 * reused (the store's copy: a hard link on disk, a server-side copy in a
 * bucket) instead of redone.
 */
import type { Db } from '../db/connect.js';
import {
  findAnalysisRecord,
  findDuplicateSource,
  listVariants,
  saveVariants,
  type VariantRow,
} from '../db/media-outputs.js';
import type { FractionBox } from '../images/face-crop.js';
import {
  CONTENT_TYPE,
  VARIANT_CACHE_CONTROL,
  formatsFor,
  libraryDirectory,
  variantPath,
  type OutputFormat,
  type SizeName,
} from '../images/presets.js';
import { eagerSizesFor } from '../images/on-demand-sizes.js';
import { renderVariants, type RenderedVariant } from '../images/render-variants.js';
import { computeThumbHash } from '../images/thumbhash-placeholder.js';
import { parseRole, type Role } from '../media-roles.js';
import type { MediaRecord } from '../db/records.js';
import { decodedItem, logoWithoutBackground, type DecodeOptions } from './decoded-item.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export interface ResizeOptions extends DecodeOptions {
  db: Db;
  /** Told the bytes written per format (metrics). */
  onVariantWritten?: (format: string, bytes: number) => void;
}

/**
 * Variants stored at once: a bucket answers each PUT after a round trip, so
 * twenty in a row would wait twenty round trips; on disk it costs nothing.
 */
const PARALLEL_PUTS = 4;

export function createResizeStep(options: ResizeOptions): Step {
  return {
    name: 'resize',
    async run(context: StepContext): Promise<StepOutcome> {
      const reused = await reuseDuplicateVariants(options, context);
      if (reused) return reused;
      const { media } = context;
      const role = parseRole(media.role) as Role;
      // Analyse decoded the original already in this run, unless it ran in an earlier claim.
      const bytesRead = context.run.decoded ? 0 : (media.file_size ?? 0);
      const decoded = await decodedItem(context, options);
      // ON_DEMAND_SIZES are rendered by the first /serve for one (serve/render-on-demand.ts), not here.
      const sizes = eagerSizesFor(role, media.width!, media.height!, options.onDemandSizes ?? []);
      const faces = await knownFaces(options.db, media.id);
      const rendered = await renderVariants(
        options.images.memory,
        decoded,
        sizes,
        formatsFor(role, decoded.hasTransparency),
        'original',
        faces,
      );
      if (role === 'logo') rendered.push(...(await renderLogoWithoutBackground(context, options, sizes)));
      const rows = await inParallel(rendered, PARALLEL_PUTS, (variant) =>
        writeVariant(options, media, variant),
      );
      await saveVariants(options.db, context.guard, rows);
      const bytes = rows.reduce((sum, row) => sum + row.bytes, 0);
      // The manifest's placeholder, from the same decode (oriented, sRGB), written in the step's fenced transition.
      const thumbhash = await computeThumbHash(decoded);
      return {
        status: 'completed',
        note: `${rows.length} variants (${sizes.join(', ')}), ${bytes} bytes`,
        mediaChanges: { library_path: libraryDirectory(media), duplicate_of: null, thumbhash },
        cost: { bytes_read: bytesRead, bytes_written: bytes },
      };
    },
  };
}

/** Face boxes the analyse step found (fractions of the decoded image), so cover crops keep them whole. */
async function knownFaces(db: Db, mediaId: number): Promise<FractionBox[]> {
  const analysis = await findAnalysisRecord(db, mediaId);
  const faces = analysis?.faces as { boxes?: { box?: unknown }[] } | null | undefined;
  return (faces?.boxes ?? [])
    .map((face) => face.box)
    .filter(
      (box): box is FractionBox =>
        Array.isArray(box) &&
        box.length === 4 &&
        box.every((v) => typeof v === 'number' && Number.isFinite(v)),
    );
}

async function renderLogoWithoutBackground(
  context: StepContext,
  options: ResizeOptions,
  sizes: SizeName[],
): Promise<RenderedVariant[]> {
  const removal = await logoWithoutBackground(context, options);
  if (!removal) return [];
  const decoded = await decodedItem(context, options);
  const transparent = {
    data: Buffer.from(removal.rgba.buffer, removal.rgba.byteOffset, removal.rgba.byteLength),
    width: decoded.width,
    height: decoded.height,
    channels: 4 as const,
    hasTransparency: true,
  };
  const formats: OutputFormat[] = ['avif', 'webp', 'png'];
  return renderVariants(options.images.memory, transparent, sizes, formats, 'removed');
}

async function writeVariant(
  options: ResizeOptions,
  media: MediaRecord,
  variant: RenderedVariant,
): Promise<VariantRow> {
  const path = variantPath(media, variant.size, variant.format, variant.bg);
  const bytes = await options.storage.put(path, variant.data, {
    contentType: CONTENT_TYPE[variant.format],
    cacheControl: VARIANT_CACHE_CONTROL,
  });
  options.onVariantWritten?.(variant.format, bytes);
  return {
    size: variant.size,
    format: variant.format,
    bg: variant.bg,
    width: variant.width,
    height: variant.height,
    bytes,
    path,
    etag: variant.etag,
  };
}

async function reuseDuplicateVariants(
  options: ResizeOptions,
  context: StepContext,
): Promise<StepOutcome | undefined> {
  const source = await findDuplicateSource(options.db, context.media);
  if (!source) return undefined;
  const variants = await listVariants(options.db, source.id);
  if (variants.length === 0) return undefined;
  const rows: VariantRow[] = [];
  for (const variant of variants) {
    const path = variantPath(
      context.media,
      variant.size as SizeName,
      variant.format as OutputFormat,
      variant.bg as 'original' | 'removed',
    );
    const linked = await options.storage.copy(variant.path, path);
    if (!linked) return undefined; // the source's files are gone: render afresh
    rows.push({ ...variant, path });
  }
  await saveVariants(options.db, context.guard, rows);
  return {
    status: 'completed',
    note: `reused ${rows.length} variants of item ${source.id} (identical bytes)`,
    // Identical bytes, identical placeholder (null when the source was resized before placeholders were).
    mediaChanges: {
      library_path: libraryDirectory(context.media),
      duplicate_of: source.id,
      thumbhash: source.thumbhash,
    },
  };
}

/** `fn` over `items`, at most `limit` at a time; the results in the items' order. The first failure rejects. */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    // After a failure no lane starts another item: the step is failing, the rest would be wasted writes.
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
