/**
 * Cleanup's writes. An item is marked deleted with its metadata kept (so
 * /serve answers 410); its checklist leaves the queue and its claim is
 * cleared, so a worker still holding it has its next write refused (fencing).
 */
import type { Db } from './connect.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';

/** Marks the item deleted and drops its variant rows. False if it was already deleted. */
export async function markItemDeleted(db: Db, id: number, reason: string, now: number): Promise<boolean> {
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('media_files')
        .where({ id })
        .whereNot({ status: 'deleted' })
        .update({ status: 'deleted', deleted_at: now, updated_at: now });
      if (matched === 0) return false;
      await trx('processing_checklist').where({ media_id: id }).update({
        state: 'deleted',
        claim_token: null,
        worker_id: null,
        lease_expires_at: null,
        updated_at: now,
      });
      await trx('media_variants').where({ media_id: id }).delete();
      await insertEvent(trx, id, null, { event: 'deleted', message: reason }, now);
      return true;
    }),
  );
}

/** Forgets the item's original (its variants stay). False if the row no longer points at that file. */
export async function clearOriginal(db: Db, id: number, bulkPath: string, now: number): Promise<boolean> {
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
  return true;
}
