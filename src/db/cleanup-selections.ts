/** What cleanup reads: which items a retention rule selects, the files each one has, and every path a row points at. */
import type { Db } from './connect.js';
import { toMediaRecord, type MediaRecord } from './records.js';
import { toCount, toNumber, type RawRow } from './row-values.js';
import { STEP_COLUMN } from './step-columns.js';
import { toVariantRecord, type RawVariantRow } from './variant-rows.js';

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
    n: unknown;
  };
  return toCount(row.n);
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
  const rows = (await query.orderBy('id').limit(limit)) as Array<RawRow<MediaRecord, 'id'>>;
  return rows.map((row) => toMediaRecord(row).id);
}

export async function filesOf(db: Db, ids: readonly number[]): Promise<ItemFiles[]> {
  if (ids.length === 0) return [];
  const media = (
    (await db('media_files').select('id', 'bulk_path').whereIn('id', ids)) as Array<
      RawRow<MediaRecord, 'id' | 'bulk_path'>
    >
  ).map(toMediaRecord);
  const variants = (
    (await db('media_variants').select('media_id', 'path').whereIn('media_id', ids)) as Array<
      RawVariantRow<'media_id' | 'path'>
    >
  ).map(toVariantRecord);
  return media.map((m) => ({
    id: m.id,
    bulkPath: m.bulk_path,
    variantPaths: variants.filter((v) => v.media_id === m.id).map((v) => v.path),
  }));
}

/** Originals still in bulk/ of items completed before the given time. */
export async function originalsCompletedBefore(db: Db, completedBefore: number): Promise<StoredOriginal[]> {
  const rows = (await db('media_files')
    .select('id', 'bulk_path')
    .where({ status: 'completed' })
    .whereNotNull('bulk_path')
    .andWhere('completed_at', '<', completedBefore)) as Array<RawRow<MediaRecord, 'id' | 'bulk_path'>>;
  // whereNotNull('bulk_path'): every row has one.
  return rows.map(toMediaRecord).map((row) => ({ id: row.id, bulkPath: row.bulk_path! }));
}

/** Every storage path a row points at: originals and variant files. */
export async function knownStoragePaths(db: Db): Promise<string[]> {
  return [
    ...((await db('media_files').whereNotNull('bulk_path').pluck('bulk_path')) as string[]),
    ...((await db('media_variants').pluck('path')) as string[]),
  ];
}

/**
 * The incoming/ objects HTTP uploads still need: those of items not deleted
 * whose retrieve step has not completed (once it has, the original is in
 * bulk/, committed with that completion). A requeue from retrieve needs its
 * object again, so it counts while it is still there.
 */
export async function incomingKeysInUse(db: Db): Promise<string[]> {
  return (await db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .where({ 'm.source': 'http' })
    .whereNot({ 'm.status': 'deleted' })
    .whereNot({ [`c.${STEP_COLUMN.retrieve}`]: 'completed' })
    .pluck('m.source_path')) as string[];
}

export async function completedItemIds(db: Db): Promise<number[]> {
  const ids = (await db('media_files').where({ status: 'completed' }).pluck('id')) as unknown[];
  return ids.map(toNumber);
}
