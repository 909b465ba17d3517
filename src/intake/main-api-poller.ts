/**
 * Polls the main API's pending list: imports new uploads, re-sends lost
 * callbacks, and sends the failure reports still owed. An upload missing
 * from the list is left alone (the list may be glitchy: see main-api-sync.ts). Idle polling doubles up to IDLE_MAX_MS; new work resets it and
 * wakes the worker. Rate limits and auth pauses are waited out.
 */
import type { Db } from '../db/connect.js';
import { requeueItems } from '../db/requeue-items.js';
import {
  claimFailuresToReport,
  importUpload,
  knownMainApiIds,
  lostCallbacks,
  recordFailureReported,
} from '../db/main-api-sync.js';
import { AuthError, RateLimitError } from '../errors.js';
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';
import { dataTypeOf } from '../media-roles.js';
import { Sleeper } from '../queue/sleeper.js';
import { expiresAtFor, type RetentionPolicy } from '../retention.js';
import type { MainApiClient } from './main-api-client.js';
import { parsePendingList, type PendingUpload, type SkippedEntries } from './pending-uploads.js';
import { parseUploadName } from './temp-path.js';

export interface PollerOptions {
  db: Db;
  client: MainApiClient;
  log: Logger;
  pollIntervalMs: number;
  idleMaxMs: number;
  retention: RetentionPolicy;
  /** Called when new work was imported or re-queued. */
  onNewWork: () => void;
  onPolled?: (outcome: 'ok' | 'error', imported: number, skipped: number) => void;
}

export interface PollResult {
  imported: number;
  skipped: number;
  callbacksResent: number;
  failuresReported: number;
}

/** Lost-callback re-sends: after 1 min, then 4, 16, 64 and 256 min; then we stop and say so. */
const RESEND_POLICY = { firstAfterMs: 60_000, factor: 4, maxResends: 5 };
/** Longest wait between polls after a failed one (the main API or the database is in trouble). */
const MAX_ERROR_DELAY_MS = 30_000;
/** The same malformed entries are reported again at most this often. */
const SKIPPED_WARNING_MS = 600_000;

export class MainApiPoller {
  private readonly sleeper = new Sleeper();
  private stopping = false;
  private skippedWarned = { count: 0, at: 0 };
  private exhaustedWarned = 0;
  private readonly pollProblem: RepeatedProblem;

  constructor(private readonly options: PollerOptions) {
    this.pollProblem = new RepeatedProblem(options.log, 'polling the main API failed; will retry');
  }

  async run(): Promise<void> {
    let delay = this.options.pollIntervalMs;
    while (!this.stopping) {
      try {
        const result = await this.pollOnce();
        this.pollProblem.resolved('polling the main API works again');
        const busy = result.imported + result.callbacksResent > 0;
        delay = busy ? this.options.pollIntervalMs : Math.min(delay * 2, this.options.idleMaxMs);
      } catch (error) {
        delay = this.delayAfter(error, delay);
      }
      await this.sleeper.sleep(delay);
    }
  }

  stop(): void {
    this.stopping = true;
    this.sleeper.wake();
  }

  async pollOnce(): Promise<PollResult> {
    const intake = await this.takeInList().then(
      (taken) => ({ taken }),
      (error: unknown) => ({ error }),
    );
    // The outbox does not need the list: an unreadable or oversized list must not stop failure reports.
    const failuresReported = await this.reportFailures();
    if ('error' in intake) throw intake.error;
    const { imported, resent, skipped } = intake.taken;
    this.options.onPolled?.('ok', imported, skipped);
    return { imported, skipped, callbacksResent: resent, failuresReported };
  }

  /** Reads the pending list: imports what is new, re-sends lost callbacks, wakes the worker. */
  private async takeInList(): Promise<{ imported: number; resent: number; skipped: number }> {
    const list = parsePendingList(await this.options.client.listPending());
    this.warnSkipped(list.skipped);
    const imported = await this.importNew(list.uploads);
    const resent = await this.resendLostCallbacks(list.uploads.map((u) => u.id));
    if (imported + resent > 0) this.options.onNewWork();
    return { imported, resent, skipped: list.skipped.count };
  }

  /** Completed uploads the main API still lists: our callback was lost. Re-sent, spaced and capped. */
  private async resendLostCallbacks(pendingIds: number[]): Promise<number> {
    const { due, exhausted } = await lostCallbacks(this.options.db, pendingIds, RESEND_POLICY);
    const resent = due.length > 0 ? (await requeueItems(this.options.db, due, 'callback')).requeued : [];
    if (resent.length > 0)
      this.options.log.warn(
        { items: resent.slice(0, 20), count: resent.length },
        'uploads still pending upstream after completion: re-sending their callbacks',
      );
    if (exhausted.length !== this.exhaustedWarned && exhausted.length > 0)
      this.options.log.warn(
        { items: exhausted.slice(0, 20), count: exhausted.length, resends: RESEND_POLICY.maxResends },
        'uploads still pending upstream after every callback re-send: no more are sent (check the main API)',
      );
    this.exhaustedWarned = exhausted.length;
    return resent.length;
  }

  private async importNew(uploads: PendingUpload[]): Promise<number> {
    const known = await knownMainApiIds(
      this.options.db,
      uploads.map((u) => u.id),
    );
    let imported = 0;
    for (const upload of uploads.filter((u) => !known.has(u.id))) {
      const name = parseUploadName(upload.imagePath);
      const id = await importUpload(this.options.db, {
        source: 'main_api',
        sourcePath: upload.imagePath,
        mainApiId: upload.id,
        userId: upload.userId ?? name.userId ?? 0,
        role: name.role ?? 'unknown',
        dataType: name.role ? dataTypeOf(name.role) : 'unknown',
        originalName: upload.originalName ?? null,
        declaredMimeType: upload.mimeType ?? null,
        expiresAt: expiresAtFor(this.options.retention, name.role ? dataTypeOf(name.role) : 'unknown', false),
      });
      if (id !== undefined) imported++;
    }
    if (imported > 0)
      this.options.log.info({ imported }, `imported ${imported} new upload(s) from the main API`);
    return imported;
  }

  /**
   * The outbox of DELETE cleanup calls for uploads that failed for good. A
   * report that fails waits for its claim's lease and is tried again; the
   * others still go out. Only a paused main API (401/403, 429) stops the round.
   */
  private async reportFailures(): Promise<number> {
    let reported = 0;
    const failed: string[] = [];
    for (const failure of await claimFailuresToReport(this.options.db, 50)) {
      try {
        await this.options.client.reportFailure(failure.mainApiId);
        await recordFailureReported(this.options.db, failure.id);
        reported++;
      } catch (error) {
        if (error instanceof AuthError || error instanceof RateLimitError) throw error;
        failed.push(`${failure.mainApiId}: ${(error as Error).message}`);
      }
    }
    if (failed.length > 0)
      this.options.log.warn(
        { count: failed.length, examples: failed.slice(0, 3) },
        'failure reports (DELETE cleanup) not accepted; each is tried again after a minute',
      );
    return reported;
  }

  /** One line for all malformed entries of a poll, repeated only when their number changes or after a while. */
  private warnSkipped(skipped: SkippedEntries): void {
    const now = Date.now();
    const changed = skipped.count !== this.skippedWarned.count;
    if (skipped.count > 0 && (changed || now - this.skippedWarned.at >= SKIPPED_WARNING_MS)) {
      this.options.log.warn(
        { count: skipped.count, examples: skipped.examples },
        `skipped ${skipped.count} pending-list entr${skipped.count === 1 ? 'y' : 'ies'} without a usable id`,
      );
      this.skippedWarned = { count: skipped.count, at: now };
    }
    if (skipped.count === 0) this.skippedWarned = { count: 0, at: 0 };
  }

  private delayAfter(error: unknown, delay: number): number {
    this.options.onPolled?.('error', 0, 0);
    // The client's rate-limit gate already grows the wait with each consecutive 429.
    if (error instanceof RateLimitError) return Math.max(this.options.pollIntervalMs, error.retryAfterMs);
    if (error instanceof AuthError) return this.options.pollIntervalMs * 5; // logged by the auth state, once a minute
    this.pollProblem.report(error);
    // Not IDLE_MAX_MS: after an outage of the main API or the database, new uploads must not sit
    // for ten minutes before the next poll notices that everything works again.
    return Math.min(
      Math.max(delay, this.options.pollIntervalMs) * 2,
      this.options.idleMaxMs,
      MAX_ERROR_DELAY_MS,
    );
  }
}
