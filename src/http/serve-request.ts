/** /serve's query, validated, and the variant it chooses from what the item has (stored or on demand). */
import type { Background, OutputFormat, SizeName } from '../images/presets.js';
import { isSizeName, negotiateFormat, pickBackground, pickSize } from './negotiate.js';
import type { ServableVariant } from './variant-lookup.js';

export interface ServeQuery {
  size?: string;
  format?: string;
  bg?: string;
}

export interface ServeRequest {
  mediaId: number;
  size?: SizeName;
  format?: OutputFormat;
  bg: Background;
}

const FORMATS = new Set(['avif', 'webp', 'jpeg', 'jpg', 'png']);
const FORMAT_ORDER: OutputFormat[] = ['avif', 'webp', 'jpeg', 'png'];
const MEDIA_ID = /^\d{1,15}$/;

/** The validated request, or the parameter that is wrong and why. */
export function parseServeRequest(
  rawId: string,
  query: ServeQuery,
): ServeRequest | { parameter: string; message: string } {
  const { size, format, bg = 'original' } = query;
  if (!MEDIA_ID.test(rawId) || Number(rawId) < 1)
    return { parameter: 'mediaId', message: `media id must be a positive integer (got "${rawId}")` };
  if (size !== undefined && !isSizeName(size))
    return {
      parameter: 'size',
      message: `size must be one of thumbnail, small, grid, detail, header, zoom (got "${size}")`,
    };
  if (format !== undefined && !FORMATS.has(format))
    return { parameter: 'format', message: `format must be one of avif, webp, jpeg, png (got "${format}")` };
  if (bg !== 'original' && bg !== 'removed')
    return { parameter: 'bg', message: `bg must be original or removed (got "${bg}")` };
  return {
    mediaId: Number(rawId),
    bg,
    ...(size ? { size } : {}),
    ...(format ? { format: format === 'jpg' ? 'jpeg' : (format as OutputFormat) } : {}),
  };
}

export type Choice = ServableVariant | { error: string; status: number; message: string };

export function chooseVariant(
  variants: readonly ServableVariant[],
  request: Pick<ServeRequest, 'size' | 'format' | 'bg'>,
  accept: string | undefined,
): Choice {
  const { size, format, bg } = request;
  const chosenSize = pickSize(size, new Set(variants.map((v) => v.size)));
  const ofSize = variants.filter((v) => v.size === chosenSize);
  const chosenBg = pickBackground(bg, new Set(ofSize.map((v) => v.bg)));
  const candidates = ofSize.filter((v) => v.bg === chosenBg);
  const available = new Set(FORMAT_ORDER.filter((f) => candidates.some((v) => v.format === f)));
  const chosenFormat = format ?? negotiateFormat(accept, available);
  const variant = candidates.find((v) => v.format === chosenFormat);
  if (variant) return variant;
  if (format)
    return {
      error: 'format_unavailable',
      status: 404,
      message: `no ${format} variant; available: ${[...available].join(', ')}`,
    };
  return {
    error: 'not_acceptable',
    status: 406,
    message: `none of the available formats (${[...available].join(', ')}) is acceptable to this client`,
  };
}

/** If-None-Match: a list of tags (weak comparison) or *. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
