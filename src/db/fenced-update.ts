/**
 * Every write a worker makes to an item it is processing goes through here,
 * guarded by the claim token: if another worker has taken the item over
 * (our lease expired), the UPDATE matches no row and the write is refused
 * with LeaseLostError. This fencing is what stops a stalled worker that wakes
 * up from completing or failing an item someone else now owns.
 */
import pRetry from 'p-retry';
import { LeaseLostError } from '../errors.js';
import { isRetryableDbError, type Db } from './connect.js';
import type { StepName } from './steps.js';

export interface ClaimGuard {
  readonly mediaId: number;
  readonly claimToken: string;
  readonly workerId: string;
}

export interface ProcessingEvent {
  step?: StepName | null;
  event: string;
  attempt?: number | null;
  errorClass?: string | null;
  message?: string | null;
}

export interface FencedChanges {
  checklist: Record<string, unknown>;
  media?: Record<string, unknown>;
  event?: ProcessingEvent;
  /** Further events, after `event`, in the same transaction. */
  events?: ProcessingEvent[];
  /** More writes that must land only while the claim is ours, in the same transaction. */
  also?: (trx: Db) => Promise<void>;
}

export async function fencedUpdate(db: Db, guard: ClaimGuard, changes: FencedChanges): Promise<void> {
  await retryOnDbContention(() =>
    db.transaction(async (trx) => {
      const now = Date.now();
      const matched = await trx('processing_checklist')
        .where({ media_id: guard.mediaId, claim_token: guard.claimToken })
        .update({ ...changes.checklist, updated_at: now });
      if (matched === 0) {
        throw new LeaseLostError(
          `item ${guard.mediaId}: claim ${guard.claimToken} of ${guard.workerId} is no longer valid (lease expired and the item was taken over, or it was requeued); write refused`,
        );
      }
      if (changes.media) {
        await trx('media_files')
          .where({ id: guard.mediaId })
          .update({ ...changes.media, updated_at: now });
      }
      if (changes.also) await changes.also(trx);
      const events = [...(changes.events ?? []), ...(changes.event ? [changes.event] : [])];
      // One INSERT for all of a transition's events: each statement is a round trip inside the transaction.
      if (events.length > 0) {
        await trx('processing_events').insert(
          events.map((event) => eventRow(guard.mediaId, guard.workerId, event, now)),
        );
      }
    }),
  );
}

export async function insertEvent(
  db: Db,
  mediaId: number,
  workerId: string | null,
  event: ProcessingEvent,
  at = Date.now(),
): Promise<void> {
  await db('processing_events').insert(eventRow(mediaId, workerId, event, at));
}

function eventRow(mediaId: number, workerId: string | null, event: ProcessingEvent, at: number) {
  return {
    media_id: mediaId,
    step: event.step ?? null,
    event: event.event,
    attempt: event.attempt ?? null,
    worker_id: workerId,
    error_class: event.errorClass ?? null,
    message: event.message?.slice(0, 4000) ?? null,
    at,
  };
}

/** Deadlocks and lock waits are normal under contention: try the whole transaction again, briefly. */
export function retryOnDbContention<T>(operation: () => Promise<T>): Promise<T> {
  return pRetry(operation, {
    retries: 5,
    minTimeout: 20,
    maxTimeout: 500,
    randomize: true,
    shouldRetry: ({ error }) => isRetryableDbError(error),
  });
}
