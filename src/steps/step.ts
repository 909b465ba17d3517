/** What every step is: a name and one async function with the same context, returning what it did. */
import type { StepCostReport } from '../db/attempt-cost.js';
import type { ClaimGuard } from '../db/fenced-update.js';
import type { MediaChanges } from '../db/fenced-types.js';
import type { MediaRecord } from '../db/records.js';
import type { StepName } from '../db/step-columns.js';
import type { DecodedImage } from '../images/decode-once.js';
import type { BackgroundRemoval } from '../images/remove-background.js';
import type { Logger } from '../log.js';
import type { LocalFile } from '../storage/object-store.js';

/**
 * What the steps of one run of one item hand each other (gone afterwards):
 * a local file of the original (on a bucket: the spooled upload or one
 * download; the runner releases it), the one decode analyse and resize
 * share, and the logo's background removal (null: tried, nothing to
 * remove). A step in a later claim makes them again.
 */
export interface RunState {
  original?: LocalFile;
  decoded?: DecodedImage;
  removal?: BackgroundRemoval | null;
}

export interface StepContext {
  readonly media: MediaRecord;
  readonly guard: ClaimGuard;
  readonly log: Logger;
  /** Aborted on forced shutdown or when the lease is lost: stop at the next safe point. */
  readonly signal: AbortSignal;
  readonly run: RunState;
}

export interface StepOutcome {
  status: 'completed' | 'skipped';
  /** Why a step was skipped, or a short summary worth keeping in the timeline. */
  note?: string;
  /**
   * Fields of the media row this step found (sniffed type, sizes, paths, the
   * main API's answer). The runner writes them with the step's completion, in
   * one fenced transaction, so a crash loses both or neither.
   */
  mediaChanges?: MediaChanges;
  /**
   * Bytes the step read and wrote, and the analysis provider calls it made:
   * what only the step knows of its cost. The runner adds the times and
   * records it on the step's completion (docs/step-cost.md). Omitted: 0, none.
   */
  cost?: StepCostReport;
}

export interface Step {
  readonly name: StepName;
  run(context: StepContext): Promise<StepOutcome>;
  /** Until when the step cannot run for this item (the main API is held back), or 0. */
  heldUntilMs?(media: MediaRecord): number;
}
