/** What /serve needs of one item besides its variants: its status, and what an on-demand render starts from. */
import type { Db } from './connect.js';
import { toMediaRecord, type MediaRecord } from './records.js';
import type { RawRow } from './row-values.js';

export type ServedItem = Pick<
  MediaRecord,
  'id' | 'status' | 'role' | 'width' | 'height' | 'bulk_path' | 'user_id' | 'data_type'
>;

const COLUMNS = ['id', 'status', 'role', 'width', 'height', 'bulk_path', 'user_id', 'data_type'] as const;

/** The item, or undefined when there is no such item. */
export async function findServedItem(db: Db, mediaId: number): Promise<ServedItem | undefined> {
  const row = (await db('media_files')
    .select(...COLUMNS)
    .where({ id: mediaId })
    .first()) as RawRow<MediaRecord, (typeof COLUMNS)[number]> | undefined;
  return row && toMediaRecord(row);
}
