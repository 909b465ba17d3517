/** What cleanup reads: which items a retention rule selects, the files each one has, and every path a row points at. */
import type { Db } from './connect.js';

/** Items a retention rule removes: test data, or items whose expires_at has passed. */
export type CleanupSelection = { kind: 'test-data' } | { kind: 'expired'; now: number };

export interface ItemFiles {
  id: number;
  bulkPath: string | null;
  variantPaths: string[];
}

export interface StoredOriginal {
  id: number;
  bulkPath: string;
}

/** Items not deleted yet: the most a cleanup run can touch. */
export async function countLiveItems(db: Db): Promise<number> {
  const row = (await db('media_files').whereNot({ status: 'deleted' }).count({ n: '*' }).first()) as {
    n: number | string;
  };
  return Number(row.n);
}

/** The next batch of ids a selection picks among items not deleted, in id order, after `afterId`. */
export async function selectLiveItemIds(
  db: Db,
  selection: CleanupSelection,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const query = db('media_files').select('id').whereNot({ status: 'deleted' }).andWhere('id', '>', afterId);
  if (selection.kind === 'test-data') query.where({ is_test_data: true });
  else query.where('expires_at', '<=', selection.now);
  const rows = (await query.orderBy('id').limit(limit)) as Array<{ id: number | string }>;
  return rows.map((row) => Number(row.id));
}

export async function filesOf(db: Db, ids: readonly number[]): Promise<ItemFiles[]> {
  if (ids.length === 0) return [];
  const media = (await db('media_files').select('id', 'bulk_path').whereIn('id', ids)) as Array<{
    id: number | string;
    bulk_path: string | null;
  }>;
  const variants = (await db('media_variants').select('media_id', 'path').whereIn('media_id', ids)) as Array<{
    media_id: number | string;
    path: string;
  }>;
  return media.map((m) => ({
    id: Number(m.id),
    bulkPath: m.bulk_path,
    variantPaths: variants.filter((v) => Number(v.media_id) === Number(m.id)).map((v) => v.path),
  }));
}

/** Originals still in bulk/ of items completed before the given time. */
export async function originalsCompletedBefore(db: Db, completedBefore: number): Promise<StoredOriginal[]> {
  const rows = (await db('media_files')
    .select('id', 'bulk_path')
    .where({ status: 'completed' })
    .whereNotNull('bulk_path')
    .andWhere('completed_at', '<', completedBefore)) as Array<{ id: number | string; bulk_path: string }>;
  return rows.map((row) => ({ id: Number(row.id), bulkPath: row.bulk_path }));
}

/** Every storage path a row points at: originals and variant files. */
export async function knownStoragePaths(db: Db): Promise<string[]> {
  return [
    ...((await db('media_files').whereNotNull('bulk_path').pluck('bulk_path')) as string[]),
    ...((await db('media_variants').pluck('path')) as string[]),
  ];
}

export async function completedItemIds(db: Db): Promise<number[]> {
  const ids = (await db('media_files').where({ status: 'completed' }).pluck('id')) as Array<number | string>;
  return ids.map(Number);
}
