/**
 * Runs the steps of one claimed item, in order, each at most once per claim.
 * Completed and skipped steps are passed over, so a re-run after a crash
 * resumes where the last one stopped. Every outcome is written under the
 * claim; a LeaseLostError means someone else owns the item now, and we stop.
 */
import { attemptCost } from '../db/attempt-cost.js';
import { LeaseLostError, classify } from '../errors.js';
import type { ClaimedItem } from '../db/claim-items.js';
import type { ClaimGuard } from '../db/fenced-update.js';
import { completeItem, completionOf, startAttempt, type StepCompletion } from '../db/item-transitions.js';
import { findChecklist, findMedia, stepState, type MediaRecord } from '../db/records.js';
import type { Logger } from '../log.js';
import type { RunState, Step } from '../steps/step.js';
import { startAttemptMeter } from './attempt-meter.js';
import type { ItemOutcome, ItemRunnerOptions } from './item-runner-options.js';
import { handleStepError, recordLostLease, release } from './step-failures.js';

export type { ItemOutcome, ItemRunnerOptions } from './item-runner-options.js';

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
  const run: RunState = {};
  try {
    return await runSteps(options, guard, { claimed, run }, signal, log);
  } catch (error) {
    if (error instanceof LeaseLostError) {
      log.warn({ err: error.message }, 'lease lost: another worker owns this item now; stopped');
      return 'lease_lost';
    }
    throw error;
  } finally {
    await releaseRunState(run, log);
  }
}

async function runSteps(
  options: ItemRunnerOptions,
  guard: ClaimGuard,
  { claimed, run }: { claimed: ClaimedItem; run: RunState },
  signal: AbortSignal,
  log: Logger,
): Promise<ItemOutcome> {
  const checklist = await findChecklist(options.db, guard.mediaId);
  // Read once per claim: the claim holder is the only writer of the row's processing columns
  // while the claim lasts, so the runner keeps its copy current from what the steps found and
  // the transitions wrote. (Retention may clear bulk_path meanwhile; a step then fails on it.)
  let media = await findMedia(options.db, guard.mediaId);
  if (!checklist || !media) return 'missing';
  // A served item (a re-render) stays served whatever happens to this claim, a lost lease included.
  const servable = media.status === 'completed';
  if (claimed.takenOverFrom) {
    const handled = await recordLostLease(options, guard, checklist, claimed.takenOverFrom, servable, log);
    if (handled) return handled;
  }
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
    const completedAt: number | null = media.completed_at;
    media = {
      ...media,
      ...(await startAttempt(options.db, guard, step.name, attempt, { done, servable, completedAt })),
    };
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
  const stepLog = log.child({ step: step.name, attempt });
  // A failed attempt costs too: its times go on the retry, failure or release it ends in.
  const meter = startAttemptMeter();
  try {
    const outcome = await step.run({ media, guard, log: stepLog, signal, run });
    const cost = attemptCost(meter.stop(), outcome.cost);
    options.onStepFinished?.(step.name, outcome.status, cost.wall_seconds);
    stepLog.debug({ outcome: outcome.status, note: outcome.note, cost }, 'step finished');
    return completionOf(step.name, outcome, attempt, servable, cost);
  } catch (thrown) {
    const cost = attemptCost(meter.stop());
    if (thrown instanceof LeaseLostError) throw thrown;
    const error = classify(thrown);
    options.onStepFinished?.(step.name, error.errorClass.toLowerCase(), cost.wall_seconds);
    return handleStepError(
      options,
      guard,
      { step: step.name, attempt, healCount, servable, cost },
      error,
      signal,
      stepLog,
    );
  }
}

/** The run's local copy of the original (a download or a spooled upload, on a bucket) goes with the run. */
async function releaseRunState(run: RunState, log: Logger): Promise<void> {
  await run.original
    ?.release()
    .catch((error: unknown) =>
      log.warn({ err: (error as Error).message }, 'could not remove the local copy of the original'),
    );
}
