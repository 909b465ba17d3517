/**
 * The one table of sizes, roles and encoder settings. Encoder choices were
 * measured on this machine kind (bench/pipeline has the full table):
 * AVIF effort 2 with 4:2:0 chroma was ~10× faster than sharp's default
 * (effort 4, 4:4:4) and slightly smaller at the same quality setting; effort 4
 * with 4:2:0 saved only ~2% more bytes for ~7× the time. mozjpeg made JPEGs
 * ~23% smaller than libjpeg-turbo at q80.
 */
import type { Role } from '../media-roles.js';

export type SizeName = 'thumbnail' | 'small' | 'grid' | 'detail' | 'header' | 'zoom';
export type OutputFormat = 'avif' | 'webp' | 'jpeg' | 'png';
export type Background = 'original' | 'removed';

export interface SizePreset {
  width: number;
  height: number;
  fit: 'cover' | 'inside';
  /** Where a cover crop keeps its window: the most salient region, or the centre. */
  crop?: 'attention' | 'centre';
}

export const SIZES: Record<SizeName, SizePreset> = {
  thumbnail: { width: 300, height: 300, fit: 'cover', crop: 'attention' },
  small: { width: 640, height: 640, fit: 'inside' },
  grid: { width: 500, height: 500, fit: 'cover', crop: 'attention' },
  detail: { width: 1200, height: 1200, fit: 'inside' },
  header: { width: 1920, height: 640, fit: 'cover', crop: 'centre' },
  zoom: { width: 2400, height: 2400, fit: 'inside' },
};

/** Serving falls back through these, smallest first. */
export const SIZE_NAMES = Object.keys(SIZES) as SizeName[];

const COMMON_SIZES: SizeName[] = ['thumbnail', 'small', 'grid', 'detail'];
const EXTRA_SIZES: Record<Role, SizeName[]> = {
  profile: [],
  logo: [],
  header: ['header'],
  site: ['header', 'zoom'],
  event: ['header', 'zoom'],
  product: ['zoom'],
};

export const ENCODER_SETTINGS = {
  avif: { quality: 56, effort: 2, chromaSubsampling: '4:2:0' },
  webp: { quality: 80, effort: 4 },
  jpeg: { quality: 82, mozjpeg: true },
  png: { compressionLevel: 9, effort: 7, palette: true, quality: 90 },
} as const;

/** JPEG has no alpha: transparent areas are laid on this. */
export const JPEG_BACKGROUND = '#ffffff';

export const CONTENT_TYPE: Record<OutputFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/**
 * A variant's bytes never change under its ETag (a re-render gets a new
 * one), so caches may keep it for a year without asking again. Sent by
 * /serve and stored on each variant object in a bucket (served as is by a
 * CDN or a public bucket).
 */
export const VARIANT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export const FILE_EXTENSION: Record<OutputFormat, string> = {
  avif: 'avif',
  webp: 'webp',
  jpeg: 'jpg',
  png: 'png',
};

/** The sizes made for a role; zoom only when the original is larger than detail. */
export function sizesFor(role: Role, width: number, height: number): SizeName[] {
  const detail = SIZES.detail;
  const largerThanDetail = width > detail.width || height > detail.height;
  return [...COMMON_SIZES, ...EXTRA_SIZES[role]].filter((size) => size !== 'zoom' || largerThanDetail);
}

/** PNG is added for logos and for anything with real transparency. */
export function formatsFor(role: Role, hasTransparency: boolean): OutputFormat[] {
  return role === 'logo' || hasTransparency ? ['avif', 'webp', 'jpeg', 'png'] : ['avif', 'webp', 'jpeg'];
}

/**
 * The scale of the one decoded intermediate: large enough for every size
 * (an inside fit needs the box to contain it, a cover fit needs the short
 * side to fill it), never above 1.
 */
export function intermediateScale(sizes: readonly SizeName[], width: number, height: number): number {
  let scale = 0;
  for (const size of sizes) {
    const box = SIZES[size];
    const sx = box.width / width;
    const sy = box.height / height;
    scale = Math.max(scale, box.fit === 'cover' ? Math.max(sx, sy) : Math.min(sx, sy));
  }
  return Math.min(1, scale);
}

export function variantPath(
  media: { id: number; user_id: number; data_type: string },
  size: SizeName,
  format: OutputFormat,
  bg: Background,
): string {
  const suffix = bg === 'removed' ? '_nobg' : '';
  return `${libraryDirectory(media)}${media.id}_${size}${suffix}.${FILE_EXTENSION[format]}`;
}

export function libraryDirectory(media: { user_id: number; data_type: string }): string {
  return `library/user_${media.user_id}/${media.data_type}/img/`;
}
