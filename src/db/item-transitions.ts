/**
 * The state changes of an item being processed, each one fenced by the claim
 * (see fenced-update.ts) and recorded as a processing event for `show`.
 */
import type { ErrorClass } from '../errors.js';
import type { Db } from './connect.js';
import { fencedUpdate, type ClaimGuard } from './fenced-update.js';
import type { MediaStatus } from './records.js';
import { STEP_COLUMN, attemptsColumn, type StepName } from './steps.js';

/** Releasing a claim: nobody holds the item; it is due again at `nextAttemptAt`. */
function released(nextAttemptAt: number): Record<string, unknown> {
  return {
    claim_token: null,
    worker_id: null,
    lease_expires_at: null,
    taken_over_from: null,
    next_attempt_at: nextAttemptAt,
  };
}

/** Counts the attempt before the step runs, so a step that kills the process still uses up attempts. */
export async function startAttempt(
  db: Db,
  guard: ClaimGuard,
  step: StepName,
  attempt: number,
): Promise<void> {
  const mediaStatus: MediaStatus = step === 'retrieve' ? 'downloading' : 'processing';
  await fencedUpdate(db, guard, {
    checklist: { [attemptsColumn(step)]: attempt, taken_over_from: null },
    media: { status: mediaStatus },
    event: { step, event: 'started', attempt },
  });
}

export async function completeStep(
  db: Db,
  guard: ClaimGuard,
  step: StepName,
  outcome: { status: 'completed' | 'skipped'; note?: string | undefined },
  attempt: number,
): Promise<void> {
  await fencedUpdate(db, guard, {
    checklist: { [STEP_COLUMN[step]]: outcome.status },
    event: { step, event: outcome.status, attempt, message: outcome.note ?? null },
  });
}

export interface FailureRecord {
  step: StepName;
  attempt: number;
  errorClass: ErrorClass;
  message: string;
}

/** A transient failure with attempts left: try again after the backoff. */
export async function scheduleRetry(
  db: Db,
  guard: ClaimGuard,
  failure: FailureRecord,
  nextAttemptAt: number,
): Promise<void> {
  await fencedUpdate(db, guard, {
    checklist: {
      ...released(nextAttemptAt),
      last_error: failure.message,
      last_error_class: failure.errorClass,
    },
    event: {
      step: failure.step,
      event: 'retry_scheduled',
      attempt: failure.attempt,
      errorClass: failure.errorClass,
      message: `${failure.message} (next attempt at ${new Date(nextAttemptAt).toISOString()})`,
    },
  });
}

/**
 * Gives the item back without counting the attempt: shutdown, a rate limit or
 * an auth pause are not the item's fault.
 */
export async function releaseClaim(
  db: Db,
  guard: ClaimGuard,
  options: { nextAttemptAt: number; refund?: { step: StepName; attempt: number }; reason: string },
): Promise<void> {
  const checklist = released(options.nextAttemptAt);
  if (options.refund)
    checklist[attemptsColumn(options.refund.step)] = Math.max(0, options.refund.attempt - 1);
  await fencedUpdate(db, guard, {
    checklist,
    event: { step: options.refund?.step ?? null, event: 'released', message: options.reason },
  });
}

/**
 * Fails the item for good (until healed or requeued). For a failed item
 * next_attempt_at means "not healed before": the heal cycle's backoff.
 */
export async function failItem(
  db: Db,
  guard: ClaimGuard,
  failure: FailureRecord,
  healAt: number,
): Promise<void> {
  const now = Date.now();
  await fencedUpdate(db, guard, {
    checklist: {
      ...released(healAt),
      state: 'failed',
      [STEP_COLUMN[failure.step]]: 'failed',
      failed_step: failure.step,
      failed_at: now,
      last_error: failure.message,
      last_error_class: failure.errorClass,
    },
    media: { status: 'failed' },
    event: {
      step: failure.step,
      event: 'failed',
      attempt: failure.attempt,
      errorClass: failure.errorClass,
      message: failure.message,
    },
  });
}

export async function completeItem(db: Db, guard: ClaimGuard): Promise<void> {
  const now = Date.now();
  await fencedUpdate(db, guard, {
    checklist: { ...released(now), state: 'completed' },
    media: { status: 'completed', completed_at: now },
    event: { event: 'completed' },
  });
}

/** Writes step results to the media row (sniffed type, sizes, paths), still under the claim. */
export async function updateMediaUnderClaim(
  db: Db,
  guard: ClaimGuard,
  media: Record<string, unknown>,
): Promise<void> {
  await fencedUpdate(db, guard, { checklist: {}, media });
}
