/**
 * The responsive-image manifest of one item: what a page needs to show it
 * well (sizes, srcsets, a placeholder, a colour, an alt text, a ready
 * `<picture>`). One builder, used by GET /api/media/:id/manifest (urls
 * root-relative, as the item view's) and by the completion callback's
 * `manifest` field (urls absolute on PUBLIC_BASE_URL, as its permanent_url).
 *
 * Computed where:
 * - width, height: the media row's, read from the header at retrieve after
 *   EXIF orientation (probe-image.ts: `metadata.autoOrient`), i.e. the
 *   dimensions as displayed, the same orientation as every variant (the one
 *   decode auto-orients, decode-once.ts);
 * - placeholder: the ThumbHash stored by the resize step (media_files.thumbhash),
 *   rendered back to a PNG here; null for items resized before it was stored;
 * - dominant_color, alt: the stored analysis (alt-text.ts has the rules);
 * - srcset: bg=original variants only, and only those with the original's
 *   aspect ratio (the `inside` sizes, and a `cover` size only when its crop
 *   keeps the shape): a srcset mixing a square thumbnail crop with the whole
 *   picture would show a different crop at each viewport width.
 */
import type { AnalysisRecord } from '../db/analysis-rows.js';
import type { Db } from '../db/connect.js';
import { variantUrl } from '../db/item-view.js';
import { findAnalysisRecord, listVariants } from '../db/media-outputs.js';
import { findChecklist, findMedia, type MediaRecord } from '../db/records.js';
import type { VariantRow } from '../db/variant-rows.js';
import { missingOnDemandVariants } from '../images/on-demand-sizes.js';
import { SIZE_NAMES, type OutputFormat } from '../images/presets.js';
import { thumbHashDataUrl } from '../images/thumbhash-placeholder.js';
import { altText } from './alt-text.js';
import { pictureHtml } from './picture-html.js';

export interface ManifestVariant {
  size: string;
  format: string;
  bg: string;
  url: string;
  width: number;
  height: number;
  /** null for an on-demand variant not made yet (its first request renders it). */
  bytes: number | null;
  /** Present (true) on an on-demand variant not made yet; its width and height are what it will have. */
  on_demand?: true;
}

export interface MediaManifest {
  media_id: number;
  width: number;
  height: number;
  /** width / height, rounded to 4 decimals. */
  aspect_ratio: number;
  variants: ManifestVariant[];
  /** Per format: "url 320w, url 640w, …" (bg=original, ascending widths). */
  srcset: Partial<Record<OutputFormat, string>>;
  placeholder: { thumbhash: string; data_url: string } | null;
  dominant_color: string | null;
  alt: string;
  picture: string;
}

export interface ManifestInput {
  /** With role and bulk_path, the on-demand variants the item can still have made are listed too. */
  media: Pick<MediaRecord, 'id' | 'width' | 'height' | 'thumbhash'> &
    Partial<Pick<MediaRecord, 'role' | 'bulk_path'>>;
  variants: readonly Pick<VariantRow, 'size' | 'format' | 'bg' | 'width' | 'height' | 'bytes'>[];
  analysis: AnalysisRecord | undefined;
}

const FORMAT_ORDER: OutputFormat[] = ['avif', 'webp', 'jpeg', 'png'];
const BG_ORDER = ['original', 'removed'];
/** The fallback `<img>`: the widest srcset entry up to this width (detail), else the narrowest. */
const IMG_MAX_WIDTH = 1200;

const rank = (order: readonly string[], value: string) =>
  order.includes(value) ? order.indexOf(value) : order.length;

function sameShape(variant: { width: number; height: number }, width: number, height: number): boolean {
  // One pixel of rounding on either side of the variant's dimensions.
  const tolerance = (width / height) * (1 / variant.width + 1 / variant.height);
  return Math.abs(variant.width / variant.height - width / height) <= tolerance;
}

function dominantColour(analysis: AnalysisRecord | undefined): string | null {
  const colours = analysis?.dominant_colors;
  return Array.isArray(colours) && typeof colours[0] === 'string' ? colours[0] : null;
}

/** Per format, the bg=original variants with the original's shape, one per width, widths ascending. */
function srcsetCandidates(
  listed: readonly ManifestVariant[],
  width: number,
  height: number,
): Map<OutputFormat, ManifestVariant[]> {
  const candidates = new Map<OutputFormat, ManifestVariant[]>();
  for (const variant of listed) {
    if (variant.bg !== 'original' || !sameShape(variant, width, height)) continue;
    const format = variant.format as OutputFormat;
    const list = candidates.get(format) ?? [];
    if (!list.some((v) => v.width === variant.width)) list.push(variant);
    candidates.set(format, list);
  }
  return candidates;
}

/** The `<img>`: PNG when the item has it (logos, transparency), else JPEG; the widest srcset entry up to 1200 px. */
function fallbackImage(
  candidates: Map<OutputFormat, ManifestVariant[]>,
  listed: readonly ManifestVariant[],
): ManifestVariant | undefined {
  const format: OutputFormat = candidates.has('png') ? 'png' : 'jpeg';
  const list = candidates.get(format) ?? [];
  return (
    list.filter((v) => v.width <= IMG_MAX_WIDTH).at(-1) ??
    list[0] ??
    listed.find((v) => v.bg === 'original' && v.format === format)
  );
}

/** The on-demand variants the item can still have made (listed before they exist, without bytes). */
function plannedVariants(media: ManifestInput['media'], variants: ManifestInput['variants']) {
  const { role, bulk_path: bulkPath, width, height } = media;
  if (role === undefined || bulkPath === undefined) return [];
  return missingOnDemandVariants({ role, bulk_path: bulkPath, width, height }, variants).map((v) => ({
    ...v,
    bytes: null,
  }));
}

export async function buildManifest(
  { media, variants, analysis }: ManifestInput,
  baseUrl: string,
): Promise<MediaManifest> {
  const listed: ManifestVariant[] = [...variants, ...plannedVariants(media, variants)]
    .sort(
      (a, b) =>
        rank(BG_ORDER, a.bg) - rank(BG_ORDER, b.bg) ||
        rank(FORMAT_ORDER, a.format) - rank(FORMAT_ORDER, b.format) ||
        a.width - b.width ||
        rank(SIZE_NAMES, a.size) - rank(SIZE_NAMES, b.size),
    )
    .map(({ size, format, bg, width, height, bytes }) => ({
      size,
      format,
      bg,
      url: `${baseUrl}${variantUrl(media.id, { size, format, bg })}`,
      width,
      height,
      bytes,
      ...(bytes === null ? { on_demand: true as const } : {}),
    }));
  const widest = listed.reduce<ManifestVariant | undefined>(
    (best, v) => (best && best.width * best.height >= v.width * v.height ? best : v),
    undefined,
  );
  const width = media.width ?? widest?.width ?? 0;
  const height = media.height ?? widest?.height ?? 0;

  const candidates = srcsetCandidates(listed, width, height);
  const srcset: Partial<Record<OutputFormat, string>> = {};
  for (const format of FORMAT_ORDER) {
    const list = candidates.get(format);
    if (list) srcset[format] = list.map((v) => `${v.url} ${v.width}w`).join(', ');
  }
  const img = fallbackImage(candidates, listed) ?? widest;
  const alt = altText(analysis);

  return {
    media_id: media.id,
    width,
    height,
    aspect_ratio: height > 0 ? Math.round((width / height) * 10_000) / 10_000 : 0,
    variants: listed,
    srcset,
    placeholder: media.thumbhash
      ? { thumbhash: media.thumbhash, data_url: await thumbHashDataUrl(media.thumbhash) }
      : null,
    dominant_color: dominantColour(analysis),
    alt,
    picture: img
      ? pictureHtml({
          srcset,
          img: { format: img.format as OutputFormat, url: img.url, width: img.width, height: img.height },
          alt,
        })
      : '',
  };
}

export type ManifestLookup =
  { manifest: MediaManifest } | { problem: 'not_found' | 'gone' | 'not_ready'; message: string };

/** The manifest of item `id`, or why there is none: unknown, deleted, or no variants yet. */
export async function findManifest(db: Db, id: number, baseUrl: string): Promise<ManifestLookup> {
  const [media, checklist] = await Promise.all([findMedia(db, id), findChecklist(db, id)]);
  if (!media) return { problem: 'not_found', message: `no media item with id ${id}` };
  if (media.status === 'deleted' || media.deleted_at !== null || checklist?.state === 'deleted') {
    return { problem: 'gone', message: `media item ${id} was deleted; it has no manifest any more` };
  }
  const [variants, analysis] = await Promise.all([listVariants(db, id), findAnalysisRecord(db, id)]);
  if (variants.length === 0) {
    const message =
      media.status === 'failed'
        ? `media item ${id} failed before it had variants (GET /api/media/${id} says why); it has none unless it is requeued`
        : `media item ${id} has no variants yet; ask again once GET /api/media/${id} says completed`;
    return { problem: 'not_ready', message };
  }
  return { manifest: await buildManifest({ media, variants, analysis }, baseUrl) };
}
