/** Failing an item nobody is processing: intake reconciliation and cleanup, outside any claim. */
import type { Db } from './connect.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import type { FailureRecord } from './item-transitions.js';
import { stepColumnChanges } from './step-columns.js';

/**
 * Fails an item that no worker holds (intake reconciliation, cleanup), only
 * while it still matches `where`; false when it
 * no longer does (a worker claimed it, another process got there first).
 */
export async function failUnclaimedItem(
  db: Db,
  id: number,
  failure: Omit<FailureRecord, 'attempt'>,
  where: Record<string, unknown> = {},
): Promise<boolean> {
  const now = Date.now();
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('processing_checklist')
        .where({ ...where, media_id: id })
        .whereNull('claim_token')
        .update({
          state: 'failed',
          ...stepColumnChanges(failure.step, { status: 'failed' }),
          failed_step: failure.step,
          failed_at: now,
          next_attempt_at: now,
          last_error: failure.message,
          last_error_class: failure.errorClass,
          updated_at: now,
        });
      if (matched === 0) return false;
      await trx('media_files').where({ id }).update({ status: 'failed', updated_at: now });
      await insertEvent(
        trx,
        id,
        null,
        { step: failure.step, event: 'failed', errorClass: failure.errorClass, message: failure.message },
        now,
      );
      return true;
    }),
  );
}
