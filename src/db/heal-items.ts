/**
 * The self-healing cycle: failed items whose last error was transient get
 * another full set of attempts at the step that failed. Permanent failures
 * (INVALID_INPUT, GONE) are never healed. For a failed row next_attempt_at
 * holds the earliest heal time, which grows with heal_count.
 */
import type { Db } from './connect.js';
import { insertEvent, retryOnDbContention } from './fenced-update.js';
import { STEP_COLUMN, attemptsColumn, parseStepName } from './steps.js';

export interface HealOptions {
  limit: number;
  now?: number;
  /** An operator's `heal` does not wait for the heal backoff; the daemon's cycle does. */
  ignoreSchedule?: boolean;
  workerId?: string | null;
}

export async function healFailedItems(db: Db, options: HealOptions): Promise<number[]> {
  if (options.limit <= 0) return [];
  const now = options.now ?? Date.now();
  const query = db('processing_checklist')
    .select('media_id', 'failed_step', 'heal_count', 'last_error')
    .where({ state: 'failed', last_error_class: 'TRANSIENT' })
    .orderBy('next_attempt_at')
    .limit(options.limit);
  if (!options.ignoreSchedule) query.andWhere('next_attempt_at', '<=', now);
  const candidates = (await query) as Array<{
    media_id: number;
    failed_step: string | null;
    heal_count: number;
    last_error: string | null;
  }>;
  const healed: number[] = [];
  for (const row of candidates) {
    if (
      await healOne(
        db,
        Number(row.media_id),
        row.failed_step,
        Number(row.heal_count),
        now,
        options.workerId ?? null,
      )
    ) {
      healed.push(Number(row.media_id));
    }
  }
  return healed;
}

async function healOne(
  db: Db,
  mediaId: number,
  failedStep: string | null,
  healCount: number,
  now: number,
  workerId: string | null,
): Promise<boolean> {
  const step = failedStep ? parseStepName(failedStep) : undefined;
  const resetStep = step ? { [STEP_COLUMN[step]]: 'pending', [attemptsColumn(step)]: 0 } : {};
  return retryOnDbContention(() =>
    db.transaction(async (trx) => {
      // Matching on state and heal_count makes concurrent heal cycles safe: only one wins.
      const matched = await trx('processing_checklist')
        .where({ media_id: mediaId, state: 'failed', heal_count: healCount })
        .update({
          ...resetStep,
          state: 'queued',
          heal_count: healCount + 1,
          next_attempt_at: now,
          failed_step: null,
          failed_at: null,
          updated_at: now,
        });
      if (matched === 0) return false;
      await trx('media_files')
        .where({ id: mediaId })
        .whereNot({ status: 'deleted' })
        .update({ status: 'pending', updated_at: now });
      await insertEvent(
        trx,
        mediaId,
        workerId,
        { step: step ?? null, event: 'healed', message: `heal #${healCount + 1}` },
        now,
      );
      return true;
    }),
  );
}
