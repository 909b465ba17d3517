/**
 * What the runner does when an attempt does not finish: retry after a
 * backoff, fail (healable or for good), or give the item back without using
 * the attempt (shutdown, a rate limit, an auth pause); and how an attempt
 * lost with a dead worker is counted.
 */
import type { AttemptCost } from '../db/attempt-cost.js';
import { RateLimitError, decideAfterFailure, isPermanent, type MediaError } from '../errors.js';
import type { ClaimGuard } from '../db/fenced-update.js';
import {
  failItem,
  releaseClaim,
  scheduleRetry,
  type FailureRecord,
  type StepCompletion,
} from '../db/item-transitions.js';
import { stepState, type ChecklistRecord } from '../db/records.js';
import type { Logger } from '../log.js';
import type { Step } from '../steps/step.js';
import { healDelayMs, retryDelayMs } from './backoff.js';
import type { ItemOutcome, ItemRunnerOptions } from './item-runner-options.js';

/** An attempt given back uncounted, with what it cost all the same. */
interface Refund {
  step: Step['name'];
  attempt: number;
  cost?: AttemptCost | undefined;
}

export async function handleStepError(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  at: { step: Step['name']; attempt: number; healCount: number; servable: boolean; cost?: AttemptCost },
  error: MediaError,
  signal: AbortSignal,
  log: Logger,
): Promise<ItemOutcome> {
  const now = Date.now();
  const refund: Refund = { step: at.step, attempt: at.attempt, cost: at.cost };
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
    cost: at.cost,
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
  refund: Refund,
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
export async function recordLostLease(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  checklist: ChecklistRecord,
  previousWorker: string,
  servable: boolean,
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
      servable,
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

export async function release(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  reason: string,
  refund?: Refund,
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
