/**
 * Deleting an item's files while keeping its metadata, so /serve answers
 * 410. The checklist leaves the queue and its claim is cleared: a worker
 * still holding it has its next write refused (fencing), and any file it
 * writes afterwards is an orphan for the next cleanup.
 */
import type { Db } from '../db/connect.js';
import { insertEvent, retryDbTransaction } from '../db/fenced-update.js';
import type { Storage } from '../storage/storage.js';

export interface ItemFiles {
  id: number;
  bulkPath: string | null;
  variantPaths: string[];
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

/** Marks the item deleted (metadata kept), then removes its files. Returns false if it was already deleted. */
export async function deleteItem(
  db: Db,
  storage: Storage,
  files: ItemFiles,
  reason: string,
): Promise<boolean> {
  const now = Date.now();
  const marked = await retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('media_files')
        .where({ id: files.id })
        .whereNot({ status: 'deleted' })
        .update({ status: 'deleted', deleted_at: now, updated_at: now });
      if (matched === 0) return false;
      await trx('processing_checklist').where({ media_id: files.id }).update({
        state: 'deleted',
        claim_token: null,
        worker_id: null,
        lease_expires_at: null,
        updated_at: now,
      });
      await trx('media_variants').where({ media_id: files.id }).delete();
      await insertEvent(trx, files.id, null, { event: 'deleted', message: reason }, now);
      return true;
    }),
  );
  if (!marked) return false;
  // Files go after the rows: a crash in between leaves orphan files (removed later), never rows pointing at nothing.
  for (const path of [files.bulkPath, ...files.variantPaths]) if (path) await storage.remove(path);
  return true;
}

/** Removes an original from bulk/ (its variants stay and keep being served). */
export async function deleteOriginal(
  db: Db,
  storage: Storage,
  id: number,
  bulkPath: string,
): Promise<boolean> {
  const now = Date.now();
  const matched = await db('media_files')
    .where({ id, bulk_path: bulkPath })
    .update({ bulk_path: null, updated_at: now });
  if (matched === 0) return false;
  await insertEvent(
    db,
    id,
    null,
    { event: 'original_expired', message: `removed ${bulkPath} (originals retention)` },
    now,
  );
  await storage.remove(bulkPath);
  return true;
}
