/**
 * Polls the main API's pending list: imports new uploads, re-sends lost
 * callbacks, fails vanished uploads as GONE, and sends the failure reports
 * still owed. Idle polling doubles up to IDLE_MAX_MS; new work resets it and
 * wakes the worker. Rate limits and auth pauses are waited out.
 */
import type { Db } from '../db/connect.js';
import { requeueItems } from '../db/requeue-items.js';
import {
  claimFailuresToReport,
  completedButStillPending,
  failVanishedUploads,
  importUpload,
  knownMainApiIds,
  recordFailureReported,
  releaseFailureReport,
} from '../db/main-api-sync.js';
import { AuthError, RateLimitError } from '../errors.js';
import type { Logger } from '../log.js';
import { dataTypeOf } from '../media-roles.js';
import { Sleeper } from '../queue/sleeper.js';
import { expiresAtFor, type RetentionPolicy } from '../retention.js';
import type { MainApiClient } from './main-api-client.js';
import { parsePendingList, type PendingUpload } from './pending-uploads.js';
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
  gone: number;
  failuresReported: number;
}

/** A callback younger than this may simply not have been processed upstream yet. */
const LOST_CALLBACK_AFTER_MS = 60_000;

export class MainApiPoller {
  private readonly sleeper = new Sleeper();
  private readonly warnedSkips = new Set<string>();
  private stopping = false;

  constructor(private readonly options: PollerOptions) {}

  async run(): Promise<void> {
    let delay = this.options.pollIntervalMs;
    while (!this.stopping) {
      try {
        const result = await this.pollOnce();
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
    const listedAt = Date.now();
    const list = parsePendingList(await this.options.client.listPending());
    for (const skip of list.skipped) this.warnSkipped(skip.entry, skip.reason);
    const imported = await this.importNew(list.uploads);
    const pendingIds = list.uploads.map((u) => u.id);
    const lost = await completedButStillPending(
      this.options.db,
      pendingIds,
      listedAt - LOST_CALLBACK_AFTER_MS,
    );
    const resent = lost.length > 0 ? (await requeueItems(this.options.db, lost, 'callback')).requeued : [];
    if (resent.length > 0)
      this.options.log.warn(
        { items: resent },
        'uploads still pending upstream after completion: re-sending their callbacks',
      );
    const gone = list.complete
      ? await failVanishedUploads(this.options.db, new Set(pendingIds), listedAt)
      : [];
    if (gone.length > 0)
      this.options.log.warn(
        { items: gone },
        'uploads vanished from the main API before retrieval: failed as GONE',
      );
    const failuresReported = await this.reportFailures();
    if (imported + resent.length > 0) this.options.onNewWork();
    this.options.onPolled?.('ok', imported, list.skipped.length);
    return {
      imported,
      skipped: list.skipped.length,
      callbacksResent: resent.length,
      gone: gone.length,
      failuresReported,
    };
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

  /** The once-only outbox of DELETE cleanup calls for uploads that failed for good. */
  private async reportFailures(): Promise<number> {
    let reported = 0;
    for (const failure of await claimFailuresToReport(this.options.db, 50)) {
      try {
        await this.options.client.reportFailure(failure.mainApiId);
        await recordFailureReported(this.options.db, failure.id);
        reported++;
      } catch (error) {
        await releaseFailureReport(this.options.db, failure.id);
        throw error;
      }
    }
    return reported;
  }

  private warnSkipped(entry: string, reason: string): void {
    if (this.warnedSkips.has(entry)) return;
    this.warnedSkips.add(entry);
    this.options.log.warn({ entry }, `skipped a malformed pending upload: ${reason}`);
  }

  private delayAfter(error: unknown, delay: number): number {
    this.options.onPolled?.('error', 0, 0);
    if (error instanceof RateLimitError) return error.retryAfterMs;
    if (error instanceof AuthError) return this.options.pollIntervalMs * 5; // logged by the auth state, once a minute
    this.options.log.warn({ err: (error as Error).message }, 'polling the main API failed; will retry');
    return Math.min(Math.max(delay, this.options.pollIntervalMs) * 2, this.options.idleMaxMs);
  }
}
