/**
 * Choosing what to serve. Explicit parameters win; otherwise the Accept
 * header decides, imgproxy-style: AVIF or WebP only when the client names
 * them (a browser that decodes them says so), PNG when asked for and present,
 * else JPEG, which every client reads. q=0 excludes a type.
 */
import { SIZE_NAMES, type Background, type OutputFormat, type SizeName } from '../images/presets.js';

interface MediaRange {
  type: string;
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').flatMap((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    if (!type) return [];
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    return [{ type: type.trim(), q: Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 0 }];
  });
}

const MIME: Record<OutputFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/** The q a client gives a format: its own entry wins over image/*, which wins over * / *. */
function qualityFor(ranges: MediaRange[], format: OutputFormat): { q: number; explicit: boolean } {
  const exact = ranges.find((r) => r.type === MIME[format] || (format === 'jpeg' && r.type === 'image/jpg'));
  if (exact) return { q: exact.q, explicit: true };
  const wildcard = ranges.find((r) => r.type === 'image/*') ?? ranges.find((r) => r.type === '*/*');
  return { q: wildcard ? wildcard.q : ranges.length === 0 ? 1 : 0, explicit: false };
}

/** The format to serve from those available, or undefined when the client accepts none of them (406). */
export function negotiateFormat(
  acceptHeader: string | undefined,
  available: ReadonlySet<OutputFormat>,
): OutputFormat | undefined {
  const ranges = parseAccept(acceptHeader);
  for (const format of ['avif', 'webp', 'png'] as const) {
    const { q, explicit } = qualityFor(ranges, format);
    if (available.has(format) && explicit && q > 0) return format;
  }
  if (available.has('jpeg') && qualityFor(ranges, 'jpeg').q > 0) return 'jpeg';
  // JPEG refused (or absent): anything else the client accepts, even through a wildcard.
  return (['webp', 'png', 'avif'] as const).find(
    (format) => available.has(format) && qualityFor(ranges, format).q > 0,
  );
}

/** Sizes every item has, smallest first: a missing size (header, zoom) falls back to the largest of these. */
const COMMON_SIZES: SizeName[] = ['thumbnail', 'small', 'grid', 'detail'];

export function pickSize(
  requested: SizeName | undefined,
  available: ReadonlySet<string>,
): SizeName | undefined {
  if (!requested) return COMMON_SIZES.find((size) => available.has(size));
  if (available.has(requested)) return requested;
  return [...COMMON_SIZES].reverse().find((size) => available.has(size));
}

export function pickBackground(requested: Background, available: ReadonlySet<string>): Background {
  return requested === 'removed' && available.has('removed') ? 'removed' : 'original';
}

export function isSizeName(value: string): value is SizeName {
  return (SIZE_NAMES as string[]).includes(value);
}
