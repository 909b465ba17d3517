/** What every step is: a name and one async function with the same context. */
import type { ClaimGuard } from '../db/fenced-update.js';
import type { MediaRecord } from '../db/records.js';
import type { StepName } from '../db/step-columns.js';
import type { Logger } from '../log.js';

export interface StepContext {
  readonly media: MediaRecord;
  readonly guard: ClaimGuard;
  readonly log: Logger;
  /** Aborted on forced shutdown or when the lease is lost: stop at the next safe point. */
  readonly signal: AbortSignal;
  /**
   * Scratch space shared by the steps of one run of one item (e.g. the
   * decoded image, so analyse and resize share one decode); gone afterwards.
   */
  readonly scratch: Map<string, unknown>;
  /** Writes fields of the media row, refused if the claim is no longer ours. */
  updateMedia(fields: Record<string, unknown>): Promise<void>;
}

export interface StepOutcome {
  status: 'completed' | 'skipped';
  /** Why a step was skipped, or a short summary worth keeping in the timeline. */
  note?: string;
}

export interface Step {
  readonly name: StepName;
  run(context: StepContext): Promise<StepOutcome>;
  /** Until when the step cannot run for this item (the main API is held back), or 0. */
  heldUntilMs?(media: MediaRecord): number;
}
