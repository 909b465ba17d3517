/**
 * The manifest's ready `<picture>` snippet: one `<source>` per modern format
 * (AVIF, then WebP) with its type and srcset, then an `<img>` in the
 * fallback format (PNG when the item has it — logos and transparent images —
 * else JPEG). Every attribute value is HTML-escaped.
 */
import { CONTENT_TYPE, type OutputFormat } from '../images/presets.js';

/** Escapes a value for a double-quoted HTML attribute (also safe as text). */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

export interface PictureInput {
  /** A ready srcset per format (bg=original). */
  srcset: Partial<Record<OutputFormat, string>>;
  /** The fallback image. */
  img: { format: OutputFormat; url: string; width: number; height: number };
  alt: string;
}

const SOURCE_FORMATS: OutputFormat[] = ['avif', 'webp'];
const SIZES = '100vw';

const attributes = (pairs: [string, string][]) =>
  pairs.map(([name, value]) => `${name}="${escapeHtml(value)}"`).join(' ');

export function pictureHtml({ srcset, img, alt }: PictureInput): string {
  const sources = SOURCE_FORMATS.filter((format) => format !== img.format && srcset[format]).map(
    (format) =>
      `<source ${attributes([
        ['type', CONTENT_TYPE[format]],
        ['srcset', srcset[format]!],
        ['sizes', SIZES],
      ])}>`,
  );
  const fallbackSrcset = srcset[img.format];
  const image = `<img ${attributes([
    ['src', img.url],
    ...(fallbackSrcset
      ? ([
          ['srcset', fallbackSrcset],
          ['sizes', SIZES],
        ] as [string, string][])
      : []),
    ['width', String(img.width)],
    ['height', String(img.height)],
    ['alt', alt],
    ['loading', 'lazy'],
    ['decoding', 'async'],
  ])}>`;
  return `<picture>${sources.join('')}${image}</picture>`;
}
