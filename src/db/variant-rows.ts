/** The media_variants row as the code outside db/ sees it: one column list, one row mapper. */

export interface VariantRow {
  size: string;
  format: string;
  bg: string;
  width: number;
  height: number;
  bytes: number;
  path: string;
  etag: string;
}

/** The columns every variant read selects. */
export const VARIANT_COLUMNS = ['size', 'format', 'bg', 'width', 'height', 'bytes', 'path', 'etag'] as const;

/** A variant row as the driver returns it: BIGINT columns may come back as strings. */
export type RawVariantRow = Omit<VariantRow, 'bytes'> & { bytes: number | string };

export function toVariantRow(raw: RawVariantRow): VariantRow {
  return {
    size: raw.size,
    format: raw.format,
    bg: raw.bg,
    width: raw.width,
    height: raw.height,
    bytes: Number(raw.bytes),
    path: raw.path,
    etag: raw.etag,
  };
}
