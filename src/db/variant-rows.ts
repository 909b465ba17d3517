/** The media_variants row as the code outside db/ sees it: one column list, one row mapper. */
import { readColumns, toNumber, toText, type ColumnReaders, type RawRow } from './row-values.js';

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

/** Every column of media_variants. */
export interface VariantRecord extends VariantRow {
  id: number;
  media_id: number;
  created_at: number;
}

/** The columns every variant read selects. */
export const VARIANT_COLUMNS = ['size', 'format', 'bg', 'width', 'height', 'bytes', 'path', 'etag'] as const;

/** A variant row as the driver returns it (BIGINT columns may come back as strings): VARIANT_COLUMNS by default. */
export type RawVariantRow<K extends keyof VariantRecord = keyof VariantRow> = RawRow<VariantRecord, K>;

const VARIANT_READERS: ColumnReaders<VariantRecord> = {
  id: toNumber,
  media_id: toNumber,
  size: toText,
  format: toText,
  bg: toText,
  width: toNumber,
  height: toNumber,
  bytes: toNumber,
  path: toText,
  etag: toText,
  created_at: toNumber,
};

/** The media_variants mapper: a whole row, or the columns a query selected. */
export function toVariantRecord<K extends keyof VariantRecord>(
  raw: RawVariantRow<K>,
): Pick<VariantRecord, K> {
  return readColumns(VARIANT_READERS, raw);
}

/** The VARIANT_COLUMNS of a row (any other column it has is left out). */
export function toVariantRow(raw: RawVariantRow): VariantRow {
  const { size, format, bg, width, height, bytes, path, etag } = toVariantRecord(raw);
  return { size, format, bg, width, height, bytes, path, etag };
}

/** The same, with the row's created_at (epoch ms). */
export function toTimedVariantRow(
  raw: RawVariantRow<keyof VariantRow | 'created_at'>,
): VariantRow & { createdAt: number } {
  return { ...toVariantRow(raw), createdAt: toVariantRecord(raw).created_at };
}
