/**
 * Every write a worker makes to an item it is processing goes through here,
 * guarded by the claim token: if another worker has taken the item over
 * (our lease expired), the UPDATE matches no row and the write is refused
 * with LeaseLostError. This fencing is what stops a stalled worker that wakes
 * up from completing or failing an item someone else now owns.
 */
import pRetry from 'p-retry';
import { costColumn } from './attempt-cost.js';
import { isRetryableDbError, type Db } from './connect.js';
import {
  leaseLost,
  type ChecklistChanges,
  type ClaimGuard,
  type MediaChanges,
  type ProcessingEvent,
} from './fenced-types.js';

export type { ChecklistChanges, ClaimGuard, MediaChanges, ProcessingEvent };

export interface FencedChanges {
  checklist: ChecklistChanges;
  media?: MediaChanges;
  event?: ProcessingEvent;
  /** Further events, recorded before `event` (a previous step's completion, then this transition), in the same transaction. */
  events?: ProcessingEvent[];
  /** More writes that must land only while the claim is ours, in the same transaction. */
  also?: (trx: Db) => Promise<void>;
}

/**
 * One transaction on every dialect: the checklist UPDATE conditioned on the
 * claim token comes first and takes the row lock, so a claim lost to a
 * takeover matches no row and nothing else is written. (A one-round-trip
 * multi-statement form for MySQL was measured and dropped: docs/decisions/0006.)
 */
export async function fencedUpdate(db: Db, guard: ClaimGuard, changes: FencedChanges): Promise<void> {
  const events = [...(changes.events ?? []), ...(changes.event ? [changes.event] : [])];
  await retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const now = Date.now();
      const matched = await trx('processing_checklist')
        .where({ media_id: guard.mediaId, claim_token: guard.claimToken })
        .update({ ...changes.checklist, updated_at: now });
      if (matched === 0) throw leaseLost(guard);
      if (changes.media) {
        await trx('media_files')
          .where({ id: guard.mediaId })
          .update({ ...changes.media, updated_at: now });
      }
      if (changes.also) await changes.also(trx);
      // One INSERT for all of a transition's events: each statement is a round trip inside the transaction.
      if (events.length > 0) {
        await trx('processing_events').insert(
          events.map((event) => eventColumns(guard.mediaId, guard.workerId, event, now)),
        );
      }
    }),
  );
}

function eventColumns(mediaId: number, workerId: string | null, event: ProcessingEvent, at: number) {
  return {
    media_id: mediaId,
    step: event.step ?? null,
    event: event.event,
    attempt: event.attempt ?? null,
    worker_id: workerId,
    error_class: event.errorClass ?? null,
    message: event.message?.slice(0, 4000) ?? null,
    cost: costColumn(event.cost),
    at,
  };
}

export async function insertEvent(
  db: Db,
  mediaId: number,
  workerId: string | null,
  event: ProcessingEvent,
  at = Date.now(),
): Promise<void> {
  await db('processing_events').insert(eventColumns(mediaId, workerId, event, at));
}

/** Lock conflicts: normal under contention, over in milliseconds. */
const CONTENTION_CODES = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_LOCKED',
]);

/** How long a transaction waits out a database that stopped answering (a restart, a failover). */
const OUTAGE_RIDE_MS = 30_000;

/**
 * Runs a transaction again when it failed for a reason that passes: a
 * deadlock or lock wait (a few quick tries), or a database that does not
 * answer (tries with growing delays for up to 30 s). A worker that rides out
 * a short outage settles the item it holds instead of dropping it to an
 * expired lease and a counted attempt. Safe to repeat: every transition is
 * fenced on the claim, so a retry after the claim moved on is refused.
 * `rideOutage: false` for writes whose values go stale while waiting (a
 * lease end computed before the wait): those fail fast and are redone fresh.
 */
export function retryDbTransaction<T>(
  operation: () => Promise<T>,
  { rideOutage = true }: { rideOutage?: boolean } = {},
): Promise<T> {
  return pRetry(operation, {
    retries: rideOutage ? 40 : 5,
    minTimeout: 20,
    maxTimeout: rideOutage ? 2000 : 500,
    randomize: true,
    maxRetryTime: OUTAGE_RIDE_MS,
    shouldRetry: ({ error, attemptNumber }) => {
      if (!isRetryableDbError(error)) return false;
      const code = (error as { code?: unknown }).code;
      const contention = typeof code === 'string' && CONTENTION_CODES.has(code);
      return contention || !rideOutage ? attemptNumber <= 5 : true;
    },
  });
}
