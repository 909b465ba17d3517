/**
 * Step 4, callback: tell the main API the upload is done (CONTRACT.md §3).
 * Locally ingested items have nobody to tell: the step is recorded as
 * skipped with the reason, never as a fake success. A main API upload in a
 * process without MAIN_API_URL is given back for a worker that can report it. The item is already completed and served while
 * this runs; what the main API answered is kept in callback_result.
 */
import type { Db } from '../db/connect.js';
import { NotHandledHereError } from '../errors.js';
import type { CallbackResult } from '../db/records.js';
import type { MainApiClient } from '../intake/main-api-client.js';
import { buildCompleteBody } from './callback-body.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export interface CallbackOptions {
  db: Db;
  /** Undefined when no main API is configured. */
  mainApi: MainApiClient | undefined;
  publicBaseUrl: string;
}

const NOTES: Record<CallbackResult, string> = {
  accepted: 'reported to the main API',
  accepted_minimal: 'the main API refused the full body (400/422) and accepted the minimal one',
  already_processed: 'the main API answered 409: already processed',
  upload_unknown: 'the main API no longer knows this upload (404/410); the media is kept and served',
};

export function createCallbackStep(options: CallbackOptions): Step {
  return {
    name: 'callback',
    heldUntilMs: (media) => (media.source === 'main_api' ? (options.mainApi?.heldUntilMs() ?? 0) : 0),
    async run(context: StepContext): Promise<StepOutcome> {
      const { media } = context;
      if (media.source === 'local')
        return { status: 'skipped', note: 'local ingest: no main API upload to report' };
      if (media.source === 'http')
        return { status: 'skipped', note: 'HTTP upload: no main API upload to report' };
      if (!options.mainApi)
        throw new NotHandledHereError(
          `this process has no MAIN_API_URL to report upload ${media.main_api_id ?? '?'} to; left for a worker that has`,
        );
      if (media.main_api_id === null) return { status: 'skipped', note: 'no main API upload id to report' };
      const body = await buildCompleteBody(options.db, media, options.publicBaseUrl);
      const result = await options.mainApi.reportComplete(media.main_api_id, media.id, body);
      if (result !== 'accepted' && result !== 'already_processed')
        context.log.warn({ mainApiId: media.main_api_id, result }, NOTES[result]);
      return {
        status: 'completed',
        note: `${NOTES[result]} (ai_enhanced: ${String(body.ai_enhanced)})`,
        mediaChanges: { callback_result: result, callback_reported_at: Date.now() },
        // The completion body as posted; headers, the answer and a minimal re-post after a 400/422 are not counted.
        cost: { bytes_written: Buffer.byteLength(JSON.stringify(body)) },
      };
    },
  };
}
