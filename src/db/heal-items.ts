/**
 * The self-healing cycle: failed items whose last error was transient get
 * another full set of attempts at the step that failed. Permanent failures
 * (INVALID_INPUT, GONE) are never healed. For a failed row next_attempt_at
 * holds the earliest heal time, which grows with heal_count.
 *
 * Healing has a budget (HEAL_MAX_COUNT heals, HEAL_MAX_AGE_HOURS of age):
 * work that can never finish must end, be failed for good and reported
 * upstream once ("retries exhausted", CONTRACT.md §4), not be retried
 * quietly for ever. Such an item gets gave_up_at, and its reason says why.
 * The exception is a failed callback: the item is delivered and served, only
 * the report is owed, and giving up would strand it; it is retried at the
 * heal backoff's ceiling (a day) for as long as it takes.
 */
import type { Db } from './connect.js';
import { BACKGROUND_WORK_PRIORITY } from './claim-priority.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import { toChecklistRecord, type ChecklistRecord } from './records.js';
import type { RawRow } from './row-values.js';
import { parseStepName, stepColumnChanges } from './step-columns.js';

export interface HealBudget {
  maxHeals: number;
  maxAgeMs: number;
}

export interface HealOptions {
  limit: number;
  now?: number;
  /** An operator's `heal` does not wait for the heal backoff, nor stop at the budget; the daemon's cycle does. */
  ignoreSchedule?: boolean;
  /** Without one, nothing is given up (an operator's heal). */
  budget?: HealBudget;
  workerId?: string | null;
  /** Told the ids of items whose heal budget ran out this cycle. */
  onGaveUp?: (ids: number[]) => void;
}

type Candidate = RawRow<
  ChecklistRecord,
  'media_id' | 'failed_step' | 'heal_count' | 'last_error' | 'created_at'
>;

export async function healFailedItems(db: Db, options: HealOptions): Promise<number[]> {
  if (options.limit <= 0) return [];
  const now = options.now ?? Date.now();
  const query = db('processing_checklist')
    .select('media_id', 'failed_step', 'heal_count', 'last_error', 'created_at')
    .where({ state: 'failed', last_error_class: 'TRANSIENT' })
    .orderBy('next_attempt_at')
    .limit(options.limit);
  if (!options.ignoreSchedule) query.andWhere('next_attempt_at', '<=', now).whereNull('gave_up_at');
  const healed: number[] = [];
  const gaveUp: number[] = [];
  for (const row of ((await query) as Candidate[]).map(toChecklistRecord)) {
    const item = { mediaId: row.media_id, healCount: row.heal_count, now };
    // A delivered item whose report keeps failing is never given up: nobody else would send it.
    const reportOnly = row.failed_step === 'callback';
    const exhausted =
      options.budget && !reportOnly && budgetSpent(options.budget, item.healCount, now - row.created_at);
    if (exhausted) {
      if (await giveUp(db, item, `${exhausted}; last error: ${row.last_error ?? 'none'}`))
        gaveUp.push(item.mediaId);
    } else if (await healOne(db, item, row.failed_step, options.workerId ?? null)) {
      healed.push(item.mediaId);
    }
  }
  if (gaveUp.length > 0) options.onGaveUp?.(gaveUp);
  return healed;
}

/** Why the budget is spent, or undefined while it is not. */
function budgetSpent(budget: HealBudget, healCount: number, ageMs: number): string | undefined {
  if (healCount >= budget.maxHeals) return `retries exhausted: healed ${healCount} times (HEAL_MAX_COUNT)`;
  if (ageMs >= budget.maxAgeMs)
    return `retries exhausted: the upload is ${Math.round(ageMs / 3_600_000)} h old (HEAL_MAX_AGE_HOURS)`;
  return undefined;
}

interface HealItem {
  mediaId: number;
  healCount: number;
  now: number;
}

async function healOne(
  db: Db,
  item: HealItem,
  failedStep: string | null,
  workerId: string | null,
): Promise<boolean> {
  const { mediaId, healCount, now } = item;
  const step = failedStep ? parseStepName(failedStep) : undefined;
  const resetStep = step ? stepColumnChanges(step, { status: 'pending', attempts: 0 }) : {};
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      // Matching on state and heal_count makes concurrent heal cycles safe: only one wins.
      const matched = await trx('processing_checklist')
        .where({ media_id: mediaId, state: 'failed', heal_count: healCount })
        .update({
          ...resetStep,
          state: 'queued',
          heal_count: healCount + 1,
          next_attempt_at: now,
          // A heal is background work: new uploads are claimed before it.
          priority: BACKGROUND_WORK_PRIORITY,
          failed_step: null,
          failed_at: null,
          gave_up_at: null,
          updated_at: now,
        });
      if (matched === 0) return false;
      // A served item (a callback to re-send, a failed re-render) stays completed and served.
      await trx('media_files')
        .where({ id: mediaId })
        .whereNotIn('status', ['deleted', 'completed'])
        .update({ status: 'pending', updated_at: now });
      const event = { step: step ?? null, event: 'healed', message: `heal #${healCount + 1}` };
      await insertEvent(trx, mediaId, workerId, event, now);
      return true;
    }),
  );
}

/** The heal budget is spent: failed for good, to be reported once by the failure outbox. */
async function giveUp(db: Db, item: HealItem, reason: string): Promise<boolean> {
  const { mediaId, healCount, now } = item;
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('processing_checklist')
        .where({ media_id: mediaId, state: 'failed', heal_count: healCount })
        .whereNull('gave_up_at')
        .update({ gave_up_at: now, last_error: reason, updated_at: now });
      if (matched === 0) return false;
      await insertEvent(
        trx,
        mediaId,
        null,
        { event: 'gave_up', errorClass: 'TRANSIENT', message: reason },
        now,
      );
      return true;
    }),
  );
}
