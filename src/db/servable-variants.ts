/** What /serve reads of one item: its status, and the variant files it can answer with. */
import type { Db } from './connect.js';
import { toMediaRecord, type MediaStatus } from './records.js';
import { VARIANT_COLUMNS, toTimedVariantRow, type RawVariantRow, type VariantRow } from './variant-rows.js';

export interface StoredVariant extends VariantRow {
  /** When the row was written (epoch ms); variants are immutable, so this is the file's Last-Modified. */
  createdAt: number;
}

/** The item's status, or undefined when there is no such item. */
export async function findMediaStatus(db: Db, mediaId: number): Promise<MediaStatus | undefined> {
  const row = (await db('media_files').select('status').where({ id: mediaId }).first()) as
    { status: unknown } | undefined;
  return row && toMediaRecord(row).status;
}

export async function listStoredVariants(db: Db, mediaId: number): Promise<StoredVariant[]> {
  const rows = (await db('media_variants')
    .select(...VARIANT_COLUMNS, 'created_at')
    .where({ media_id: mediaId })) as Array<RawVariantRow<keyof VariantRow | 'created_at'>>;
  return rows.map(toTimedVariantRow);
}
