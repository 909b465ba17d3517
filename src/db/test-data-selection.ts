/**
 * What `delete-test-data` may touch: items ingested as test data
 * (media_files.is_test_data), never production rows, however they are named.
 */
import type { Db } from './connect.js';
import { toMediaRecord, type MediaRecord } from './records.js';
import type { RawRow } from './row-values.js';

export interface TestDataFilters {
  ids?: readonly number[];
  userId?: number;
  /** Only items created before this time (epoch ms). */
  createdBefore?: number;
  /** Keyset: only ids above this one (a dry run deletes nothing, so batches must move on by id). */
  afterId: number;
  limit: number;
}

export interface NamedItem {
  id: number;
  isTestData: boolean;
  deleted: boolean;
}

/** The named ids as they are: which exist, which are test data, which are already deleted. */
export async function describeItems(db: Db, ids: readonly number[]): Promise<NamedItem[]> {
  if (ids.length === 0) return [];
  const rows = (await db('media_files').select('id', 'is_test_data', 'status').whereIn('id', ids)) as Array<
    RawRow<MediaRecord, 'id' | 'is_test_data' | 'status'>
  >;
  return rows
    .map(toMediaRecord)
    .map((row) => ({ id: row.id, isTestData: row.is_test_data, deleted: row.status === 'deleted' }));
}

/** Live test-data items matching every given filter, in id order, at most `limit`. */
export async function selectTestDataIds(db: Db, filters: TestDataFilters): Promise<number[]> {
  const query = db('media_files')
    .select('id')
    .where({ is_test_data: true })
    .whereNot({ status: 'deleted' })
    .andWhere('id', '>', filters.afterId)
    .orderBy('id')
    .limit(filters.limit);
  if (filters.ids) query.whereIn('id', filters.ids);
  if (filters.userId !== undefined) query.where({ user_id: filters.userId });
  if (filters.createdBefore !== undefined) query.where('created_at', '<', filters.createdBefore);
  const rows = (await query) as Array<RawRow<MediaRecord, 'id'>>;
  return rows.map((row) => toMediaRecord(row).id);
}
