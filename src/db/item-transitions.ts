/**
 * The state changes of an item being processed, each one fenced by the claim
 * (see fenced-update.ts) and recorded as a processing event for `show`.
 */
import type { ErrorClass } from '../errors.js';
import type { AttemptCost } from './attempt-cost.js';
import type { Db } from './connect.js';
import {
  fencedUpdate,
  type ChecklistChanges,
  type ClaimGuard,
  type MediaChanges,
  type ProcessingEvent,
} from './fenced-update.js';
import type { MediaStatus } from './records.js';
import { stepColumnChanges, type StepName } from './step-columns.js';

/** Releasing a claim: nobody holds the item; it is due again at `nextAttemptAt`. */
function released(nextAttemptAt: number): ChecklistChanges {
  return {
    claim_token: null,
    worker_id: null,
    lease_expires_at: null,
    taken_over_from: null,
    next_attempt_at: nextAttemptAt,
  };
}

/**
 * A step that finished, with the media fields it found; written with the
 * item's next transition (one transaction instead of two), so the step's
 * completion and its results land together or not at all.
 */
export interface StepCompletion {
  step: StepName;
  status: 'completed' | 'skipped';
  note?: string | undefined;
  attempt: number;
  mediaChanges?: MediaChanges | undefined;
  /** What the attempt cost, recorded on its completed or skipped event. */
  cost?: AttemptCost | undefined;
}

function completionChanges(done: StepCompletion | undefined): {
  checklist: ChecklistChanges;
  media: MediaChanges;
  events: ProcessingEvent[];
} {
  if (!done) return { checklist: {}, media: {}, events: [] };
  return {
    checklist: stepColumnChanges(done.step, { status: done.status }),
    media: done.mediaChanges ?? {},
    events: [
      {
        step: done.step,
        event: done.status,
        attempt: done.attempt,
        message: done.note ?? null,
        cost: done.cost ?? null,
      },
    ],
  };
}

/**
 * A step's completion as the runner records it. Once resize has finished
 * every variant is stored and recorded, so its completion also makes the
 * item completed — served — with completed_at, in the same write, whatever
 * comes next (the callback, a release while the main API is held back, a
 * shutdown). An item that was served already (a re-render) keeps its status
 * and first completion time.
 */
export function completionOf(
  step: StepName,
  outcome: {
    status: StepCompletion['status'];
    note?: string | undefined;
    mediaChanges?: MediaChanges | undefined;
  },
  attempt: number,
  servable: boolean,
  cost?: AttemptCost,
): StepCompletion {
  const served: MediaChanges =
    step === 'resize' && !servable ? { status: 'completed', completed_at: Date.now() } : {};
  const mediaChanges = { ...outcome.mediaChanges, ...served };
  return { step, status: outcome.status, note: outcome.note, attempt, mediaChanges, cost };
}

/** A media change set, or undefined when it is empty (no UPDATE to send). */
const nonEmpty = (media: MediaChanges): MediaChanges | undefined =>
  Object.keys(media).length > 0 ? media : undefined;

/** What the runner knows of the item when a step starts. */
export interface AttemptStart {
  /** The previous step of this claim, finished: recorded with this write. */
  done?: StepCompletion | undefined;
  /** The item was served when claimed (a re-render): its status is left alone. */
  servable?: boolean;
  /** The item's completed_at as the runner holds it. */
  completedAt?: number | null;
}

/**
 * Counts the attempt before the step runs, so a step that kills the process
 * still uses up attempts; records the previous step's completion with it.
 * Returns what it wrote to the media row, for the runner's copy of it.
 */
export async function startAttempt(
  db: Db,
  guard: ClaimGuard,
  step: StepName,
  attempt: number,
  { done, servable = false, completedAt = null }: AttemptStart = {},
): Promise<MediaChanges> {
  const previous = completionChanges(done);
  // A served item being re-rendered (an operator's requeue) keeps being served from its variants.
  const onStart = servable ? {} : mediaChangesOnStart(step, previous.media.completed_at ?? completedAt);
  const media = { ...previous.media, ...onStart };
  await fencedUpdate(db, guard, {
    checklist: {
      ...previous.checklist,
      ...stepColumnChanges(step, { attempts: attempt }),
      taken_over_from: null,
    },
    // Without a change the media row is not touched: one statement less in the transaction.
    ...(nonEmpty(media) ? { media } : {}),
    events: previous.events,
    event: { step, event: 'started', attempt },
  });
  return media;
}

/**
 * The media row's status while a step runs. From the end of resize the item
 * is completed — served (see completionOf): the callback's fate (retries, a
 * refusal, a main API that forgot the upload) never takes a finished picture
 * offline. The callback start repeats it, with completed_at when the item has
 * none (a resize finished before completionOf recorded it).
 */
function mediaChangesOnStart(step: StepName, completedAt: number | null): MediaChanges {
  if (step === 'retrieve') return { status: 'downloading' satisfies MediaStatus };
  if (step !== 'callback') return { status: 'processing' satisfies MediaStatus };
  return {
    status: 'completed' satisfies MediaStatus,
    ...(completedAt === null ? { completed_at: Date.now() } : {}),
  };
}

export interface FailureRecord {
  step: StepName;
  attempt: number;
  errorClass: ErrorClass;
  message: string;
  /** What the failed attempt cost; none for an attempt lost with its worker. */
  cost?: AttemptCost | undefined;
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
      cost: failure.cost ?? null,
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
  options: {
    nextAttemptAt: number;
    /** The attempt given back; its cost (it ran, even if it does not count) goes on the released event. */
    refund?: { step: StepName; attempt: number; cost?: AttemptCost | undefined };
    reason: string;
    done?: StepCompletion;
  },
): Promise<void> {
  const previous = completionChanges(options.done);
  const { refund } = options;
  const checklist: ChecklistChanges = {
    ...previous.checklist,
    ...released(options.nextAttemptAt),
    ...(refund ? stepColumnChanges(refund.step, { attempts: Math.max(0, refund.attempt - 1) }) : {}),
  };
  const media = nonEmpty(previous.media);
  await fencedUpdate(db, guard, {
    checklist,
    ...(media ? { media } : {}),
    events: previous.events,
    event: {
      step: refund?.step ?? null,
      event: 'released',
      message: options.reason,
      cost: refund?.cost ?? null,
    },
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
  servable = false,
): Promise<void> {
  const now = Date.now();
  const keepsServing = servable || failure.step === 'callback';
  await fencedUpdate(db, guard, {
    checklist: {
      ...released(healAt),
      state: 'failed',
      ...stepColumnChanges(failure.step, { status: 'failed' }),
      failed_step: failure.step,
      failed_at: now,
      last_error: failure.message,
      last_error_class: failure.errorClass,
    },
    // A failed callback, or a failed re-render of a served item, leaves it completed and served.
    ...(keepsServing ? {} : { media: { status: 'failed' } }),
    event: {
      step: failure.step,
      event: 'failed',
      attempt: failure.attempt,
      errorClass: failure.errorClass,
      message: failure.message,
      cost: failure.cost ?? null,
    },
  });
}

/** The checklist is done; `completedAt` is kept when the item became servable earlier (before its callback). */
export async function completeItem(
  db: Db,
  guard: ClaimGuard,
  done?: StepCompletion,
  completedAt?: number | null,
): Promise<void> {
  const now = Date.now();
  const previous = completionChanges(done);
  await fencedUpdate(db, guard, {
    checklist: { ...previous.checklist, ...released(now), state: 'completed' },
    media: { ...previous.media, status: 'completed', completed_at: completedAt ?? now },
    events: previous.events,
    event: { event: 'completed' },
  });
}
