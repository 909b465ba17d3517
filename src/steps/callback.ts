/**
 * Step 4, callback: tell the main API the upload is done. Locally ingested
 * items, and every item when no main API is configured, have nobody to tell:
 * the step is recorded as skipped with the reason, never as a fake success.
 */
import type { Step, StepContext, StepOutcome } from './step.js';

export interface CallbackOptions {
  /** Reports a main API upload; undefined when no main API is configured. */
  reportToMainApi?: (context: StepContext) => Promise<StepOutcome>;
}

export function createCallbackStep(options: CallbackOptions): Step {
  return {
    name: 'callback',
    async run(context: StepContext): Promise<StepOutcome> {
      if (context.media.source === 'local') {
        return { status: 'skipped', note: 'local ingest: no main API upload to report' };
      }
      if (!options.reportToMainApi) return { status: 'skipped', note: 'no main API configured' };
      return options.reportToMainApi(context);
    },
  };
}
