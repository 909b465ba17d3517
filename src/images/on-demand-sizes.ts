/**
 * Sizes made on demand (ON_DEMAND_SIZES, default zoom): not rendered by the
 * resize step, but by the first /serve that asks for one, from the kept
 * original (serve/render-on-demand.ts). Only the sizes some items lack may
 * be on demand (header, zoom): the four every item has are the fallbacks a
 * missing size is answered with, so they are always made eagerly.
 */
import { SIZES, sizesFor, type SizeName } from './presets.js';
import { parseRole, type Role } from '../media-roles.js';

export const ON_DEMAND_CAPABLE: readonly SizeName[] = ['header', 'zoom'];

/** ON_DEMAND_SIZES' default. */
export const DEFAULT_ON_DEMAND_SIZES = 'zoom';

/** Parses ON_DEMAND_SIZES: a comma list of header, zoom; empty or "none": every size is made eagerly. */
export function parseOnDemandSizes(raw: string): readonly SizeName[] {
  const names = raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part !== 'none');
  for (const name of names) {
    if (!(ON_DEMAND_CAPABLE as readonly string[]).includes(name))
      throw new Error(
        `must be a comma list of ${ON_DEMAND_CAPABLE.join(', ')} (or none); "${name}" ` +
          (name in SIZES
            ? 'is a size every item has, the fallback of missing sizes: it is always made eagerly'
            : 'is not a size'),
      );
  }
  return Object.freeze([...new Set(names)] as SizeName[]);
}

/** The sizes the resize step renders for an item: its role's sizes less the on-demand ones. */
export function eagerSizesFor(
  role: Role,
  width: number,
  height: number,
  onDemand: readonly SizeName[],
): SizeName[] {
  return sizesFor(role, width, height).filter((size) => !onDemand.includes(size));
}

/** The on-demand sizes an item has (its role's, for its dimensions): what /serve may render for it. */
export function onDemandSizesFor(
  role: Role,
  width: number,
  height: number,
  onDemand: readonly SizeName[],
): SizeName[] {
  return sizesFor(role, width, height).filter((size) => onDemand.includes(size));
}

/**
 * The dimensions a size will have for an original of width × height (the
 * manifest lists an on-demand variant before it exists). sharp's own
 * arithmetic: an inside fit scales by the tighter side and rounds; a cover
 * fit without enlargement is the box, clipped to the original.
 */
export function expectedDimensions(
  size: SizeName,
  width: number,
  height: number,
): { width: number; height: number } {
  const box = SIZES[size];
  if (box.fit === 'cover') return { width: Math.min(box.width, width), height: Math.min(box.height, height) };
  if (width <= box.width && height <= box.height) return { width, height };
  const scale = Math.min(box.width / width, box.height / height);
  return scale === box.width / width
    ? { width: box.width, height: Math.max(1, Math.round(height * scale)) }
    : { width: Math.max(1, Math.round(width * scale)), height: box.height };
}

export interface PlannedVariant {
  size: SizeName;
  format: string;
  bg: 'original';
  width: number;
  height: number;
}

/**
 * The on-demand variants an item lacks and can still have made: every
 * on-demand-capable size of its role (whatever ON_DEMAND_SIZES says now: an
 * item resized while a size was on demand lacks it for good otherwise), in
 * each format its stored bg=original variants have, while its original is
 * kept. /serve renders them; the manifest and sizes_available list them.
 */
export function missingOnDemandVariants(
  media: { role: string; width: number | null; height: number | null; bulk_path: string | null },
  stored: readonly { size: string; format: string; bg: string }[],
): PlannedVariant[] {
  const role = parseRole(media.role);
  const { width, height } = media;
  if (!role || media.bulk_path === null || !width || !height) return [];
  const original = stored.filter((v) => v.bg === 'original');
  const formats = [...new Set(original.map((v) => v.format))];
  const planned: PlannedVariant[] = [];
  for (const size of onDemandSizesFor(role, width, height, ON_DEMAND_CAPABLE)) {
    const dimensions = expectedDimensions(size, width, height);
    for (const format of formats) {
      if (original.some((v) => v.size === size && v.format === format)) continue;
      planned.push({ size, format, bg: 'original', ...dimensions });
    }
  }
  return planned;
}
