/**
 * Runs the steps of one claimed item, in order, each at most once per claim.
 * Completed and skipped steps are passed over, so a re-run after a crash
 * resumes where the last one stopped. Every outcome is written under the
 * claim; a LeaseLostError means someone else owns the item now, and we stop.
 */
import { LeaseLostError, RateLimitError, classify, decideAfterFailure, isPermanent } from '../errors.js';
import type { MediaError } from '../errors.js';
import type { ClaimedItem } from '../db/claim-items.js';
import type { Db } from '../db/connect.js';
import type { ClaimGuard } from '../db/fenced-update.js';
import {
  completeItem,
  failItem,
  releaseClaim,
  scheduleRetry,
  startAttempt,
  type FailureRecord,
  type StepCompletion,
} from '../db/item-transitions.js';
import {
  findChecklist,
  findMedia,
  stepState,
  type ChecklistRecord,
  type MediaRecord,
} from '../db/records.js';
import type { Logger } from '../log.js';
import type { RunState, Step } from '../steps/step.js';
import { healDelayMs, retryDelayMs } from './backoff.js';

export interface ItemRunnerOptions {
  db: Db;
  steps: readonly Step[];
  workerId: string;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  healIntervalMs: number;
  /** How long main API traffic pauses after an AUTH failure. */
  authPauseMs: number;
  log: Logger;
  onStepFinished?: (step: string, outcome: string, seconds: number) => void;
}

export type ItemOutcome = 'completed' | 'failed' | 'retry' | 'released' | 'lease_lost' | 'missing';

export async function runClaimedItem(
  options: ItemRunnerOptions,
  claimed: ClaimedItem,
  signal: AbortSignal,
): Promise<ItemOutcome> {
  const guard: ClaimGuard = {
    mediaId: claimed.mediaId,
    claimToken: claimed.claimToken,
    workerId: options.workerId,
  };
  const log = options.log.child({ mediaId: claimed.mediaId });
  try {
    return await runSteps(options, guard, claimed, signal, log);
  } catch (error) {
    if (error instanceof LeaseLostError) {
      log.warn({ err: error.message }, 'lease lost: another worker owns this item now; stopped');
      return 'lease_lost';
    }
    throw error;
  }
}

async function runSteps(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  claimed: ClaimedItem,
  signal: AbortSignal,
  log: Logger,
): Promise<ItemOutcome> {
  const checklist = await findChecklist(options.db, guard.mediaId);
  if (!checklist) return 'missing';
  if (claimed.takenOverFrom) {
    const handled = await recordLostLease(options, guard, checklist, claimed.takenOverFrom, log);
    if (handled) return handled;
  }
  // Read once per claim: only the claim holder writes the row while the claim lasts, so the
  // runner keeps its copy current from what the steps found and the transitions wrote.
  let media = await findMedia(options.db, guard.mediaId);
  if (!media) return 'missing';
  const servable = media.status === 'completed';
  const run: RunState = {};
  // A finished step is written with the next transition; while the claim is ours nobody else changes the checklist.
  let done: StepCompletion | undefined;
  for (const step of options.steps) {
    const state = stepState(checklist, step.name);
    if (state.status === 'completed' || state.status === 'skipped') continue;
    if (signal.aborted)
      return release(options, guard, 'shutdown before the next step', undefined, Date.now(), done);
    const heldUntil = step.heldUntilMs?.(media) ?? 0;
    // The main API is held back (pause, 429, breaker): give the item back until then, untouched.
    if (heldUntil > Date.now())
      return release(
        options,
        guard,
        `${step.name} waits: main API calls are held back`,
        undefined,
        heldUntil,
        done,
      );
    const attempt = state.attempts + 1;
    media = { ...media, ...(await startAttempt(options.db, guard, step.name, attempt, done, servable)) };
    const result = await attemptStep(
      options,
      guard,
      { step, attempt, healCount: checklist.heal_count, run, media, servable },
      signal,
      log,
    );
    if (typeof result === 'string') return result;
    media = { ...media, ...result.mediaChanges };
    done = result;
  }
  await completeItem(options.db, guard, done, media.completed_at);
  log.info('item completed');
  return 'completed';
}

/** One attempt at one step: the step, its attempt number and what the runner holds for the item. */
interface AttemptInput {
  step: Step;
  attempt: number;
  healCount: number;
  run: RunState;
  /** The media row as of this attempt's start. */
  media: MediaRecord;
  /** The item was completed (served) when claimed: a failed re-render must not take it offline. */
  servable: boolean;
}

async function attemptStep(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  { step, attempt, healCount, run, media, servable }: AttemptInput,
  signal: AbortSignal,
  log: Logger,
): Promise<StepCompletion | ItemOutcome> {
  const started = performance.now();
  const stepLog = log.child({ step: step.name, attempt });
  try {
    const outcome = await step.run({ media, guard, log: stepLog, signal, run });
    options.onStepFinished?.(step.name, outcome.status, (performance.now() - started) / 1000);
    stepLog.debug({ outcome: outcome.status, note: outcome.note }, 'step finished');
    const { status, note, mediaChanges } = outcome;
    return { step: step.name, status, note, attempt, mediaChanges };
  } catch (thrown) {
    if (thrown instanceof LeaseLostError) throw thrown;
    const error = classify(thrown);
    options.onStepFinished?.(step.name, error.errorClass.toLowerCase(), (performance.now() - started) / 1000);
    return handleStepError(
      options,
      guard,
      { step: step.name, attempt, healCount, servable },
      error,
      signal,
      stepLog,
    );
  }
}

async function handleStepError(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  at: { step: Step['name']; attempt: number; healCount: number; servable: boolean },
  error: MediaError,
  signal: AbortSignal,
  log: Logger,
): Promise<ItemOutcome> {
  const now = Date.now();
  const refund = { step: at.step, attempt: at.attempt };
  if (signal.aborted && !isPermanent(error.errorClass)) {
    return release(options, guard, `interrupted by shutdown: ${error.message}`, refund);
  }
  const decision = decideAfterFailure(error.errorClass, at.attempt, options.maxAttempts);
  if (decision === 'release') return releaseForLater(options, guard, error, refund, log);
  const failure: FailureRecord = {
    step: at.step,
    attempt: at.attempt,
    errorClass: error.errorClass,
    message: error.message,
  };
  if (decision === 'fail') {
    const healAt = now + healDelayMs(at.healCount, options.healIntervalMs);
    await failItem(options.db, guard, failure, healAt, at.servable);
    const what = isPermanent(error.errorClass)
      ? `step ${at.step} failed for good`
      : `step ${at.step} failed after ${at.attempt} attempt(s); the heal cycle will try again`;
    log.error({ errorClass: error.errorClass, err: error.message }, what);
    return 'failed';
  }
  const nextAttemptAt = now + retryDelayMs(at.attempt, options.retryBaseMs, options.retryMaxMs);
  await scheduleRetry(options.db, guard, failure, nextAttemptAt);
  log.warn(
    { errorClass: error.errorClass, err: error.message, nextAttemptAt },
    `step ${at.step} failed; will retry`,
  );
  return 'retry';
}

/** A rate limit or an auth pause: not the item's fault, so the attempt is given back. */
function releaseForLater(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  error: MediaError,
  refund: { step: Step['name']; attempt: number },
  log: Logger,
): Promise<ItemOutcome> {
  if (error instanceof RateLimitError) {
    // Debug only: the main API client logs its gates when they close, once, not once per item.
    log.debug({ retryAfterMs: error.retryAfterMs }, error.message);
    return release(options, guard, error.message, refund, Date.now() + error.retryAfterMs);
  }
  const reason = `main API refused our key: ${error.message}`;
  return release(options, guard, reason, refund, Date.now() + options.authPauseMs);
}

/**
 * The previous owner stopped (crash, kill -9, a stall past its lease) while
 * running a step. That counts as a failed, transient attempt: back off, or
 * fail the item (healable) if it has used up its attempts — an input that
 * crashes workers must not crash-loop the fleet.
 */
async function recordLostLease(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  checklist: ChecklistRecord,
  previousWorker: string,
  log: Logger,
): Promise<ItemOutcome | undefined> {
  const current = options.steps.find((step) => {
    const { status } = stepState(checklist, step.name);
    return status !== 'completed' && status !== 'skipped';
  });
  if (!current) return undefined;
  const { attempts } = stepState(checklist, current.name);
  if (attempts === 0) return undefined;
  const message = `worker ${previousWorker} stopped during step ${current.name} (attempt ${attempts}) and its lease expired`;
  log.warn({ previousWorker, step: current.name, attempts }, 'took over an item from a worker that stopped');
  const failure: FailureRecord = { step: current.name, attempt: attempts, errorClass: 'TRANSIENT', message };
  const now = Date.now();
  if (decideAfterFailure('TRANSIENT', attempts, options.maxAttempts) === 'fail') {
    await failItem(
      options.db,
      guard,
      failure,
      now + healDelayMs(checklist.heal_count, options.healIntervalMs),
    );
    return 'failed';
  }
  await scheduleRetry(
    options.db,
    guard,
    failure,
    now + retryDelayMs(attempts, options.retryBaseMs, options.retryMaxMs),
  );
  return 'retry';
}

async function release(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  reason: string,
  refund?: { step: Step['name']; attempt: number },
  nextAttemptAt = Date.now(),
  done?: StepCompletion,
): Promise<ItemOutcome> {
  await releaseClaim(options.db, guard, {
    nextAttemptAt,
    reason,
    ...(refund ? { refund } : {}),
    ...(done ? { done } : {}),
  });
  return 'released';
}
