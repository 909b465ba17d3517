/**
 * Keeping our items in step with the main API's pending list: importing new
 * uploads exactly once (several workers may poll at once), re-sending lost
 * callbacks (spaced and capped), and the once-only outbox of failure reports
 * (DELETE cleanup). Absence from the list is never taken as "gone": one
 * empty answer during a deploy would destroy queued uploads. Only the file
 * itself (404/410, asked twice) says an upload is gone.
 */
import type { Db } from './connect.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import { insertMedia, type NewMedia } from './insert-media.js';
import { toMediaRecord, type MediaRecord } from './records.js';
import type { RawRow } from './row-values.js';

const CHUNK = 500;

/** main_api_ids among `ids` that we already have. */
export async function knownMainApiIds(db: Db, ids: readonly number[]): Promise<Set<number>> {
  const known = new Set<number>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = (await db('media_files')
      .select('main_api_id')
      .whereIn('main_api_id', ids.slice(i, i + CHUNK))) as Array<RawRow<MediaRecord, 'main_api_id'>>;
    for (const row of rows) known.add(toMediaRecord(row).main_api_id!);
  }
  return known;
}

/** A unique index refused the row: another request or worker inserted it first. */
export function isDuplicateKey(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Inserts an upload unless another worker already did (the unique main_api_id decides). */
export async function importUpload(db: Db, media: NewMedia): Promise<number | undefined> {
  try {
    return await insertMedia(db, media);
  } catch (error) {
    if (isDuplicateKey(error)) return undefined;
    throw error;
  }
}

export interface ResendPolicy {
  /** A completion younger than this may simply not have been processed upstream yet. */
  firstAfterMs: number;
  /** Each re-send waits this many times longer than the one before. */
  factor: number;
  maxResends: number;
}

export interface LostCallbacks {
  /** Claimed for a re-send now (callback_resends counted). */
  due: number[];
  /** Still listed upstream after every re-send: no more are sent. */
  exhausted: number[];
}

type CompletedRow = Pick<
  MediaRecord,
  'id' | 'callback_reported_at' | 'completed_at' | 'callback_resends' | 'callback_resent_at'
>;

/**
 * Completed uploads still listed as pending upstream: a callback the main API
 * lost. Re-sends are spaced out (firstAfterMs, then × factor each time) and
 * capped, and each is claimed with a compare-and-set on callback_resends, so
 * several pollers never send the same one twice.
 */
export async function lostCallbacks(
  db: Db,
  mainApiIds: readonly number[],
  policy: ResendPolicy,
  now = Date.now(),
): Promise<LostCallbacks> {
  const result: LostCallbacks = { due: [], exhausted: [] };
  for (let i = 0; i < mainApiIds.length; i += CHUNK) {
    const rows = (await db('media_files as m')
      .join('processing_checklist as c', 'c.media_id', 'm.id')
      .select(
        'm.id',
        'm.callback_reported_at',
        'm.completed_at',
        'm.callback_resends',
        'm.callback_resent_at',
      )
      .where({ 'm.source': 'main_api', 'm.status': 'completed', 'c.state': 'completed' })
      .whereIn('m.main_api_id', mainApiIds.slice(i, i + CHUNK))) as Array<RawRow<CompletedRow>>;
    for (const row of rows.map(toMediaRecord)) {
      const resends = row.callback_resends;
      if (resends >= policy.maxResends) result.exhausted.push(row.id);
      else if (isResendDue(row, resends, policy, now) && (await claimResend(db, row.id, resends, now)))
        result.due.push(row.id);
    }
  }
  return result;
}

function isResendDue(row: CompletedRow, resends: number, policy: ResendPolicy, now: number): boolean {
  // From when the main API accepted the completion (not completed_at: that is when the item became
  // servable, before its callback — a slow callback would be re-sent right after it was accepted).
  const last = row.callback_resent_at ?? row.callback_reported_at ?? row.completed_at ?? now;
  return now - last >= policy.firstAfterMs * policy.factor ** resends;
}

async function claimResend(db: Db, id: number, resends: number, now: number): Promise<boolean> {
  const matched = await db('media_files')
    .where({ id, callback_resends: resends })
    .update({ callback_resends: resends + 1, callback_resent_at: now });
  return matched === 1;
}

export interface FailureToReport {
  id: number;
  mainApiId: number;
}

/** How long a claimed failure report waits for its sender before another poller sends it again. */
const FAILURE_REPORT_LEASE_MS = 60_000;

/**
 * Main API uploads failed for good and not yet reported: permanent failures,
 * and transient ones whose heal budget is spent ("retries exhausted"). Never
 * one whose completion was already reported: telling the main API that a
 * delivered upload failed would be a lie (cleanup's vanished-files case).
 * Each is claimed with a lease, so one poller sends it, and a sender that
 * dies mid-call is replaced after the lease: at least once, never lost. Ones
 * never tried come first, so one failing report cannot hold back the rest.
 */
export async function claimFailuresToReport(
  db: Db,
  limit: number,
  now = Date.now(),
): Promise<FailureToReport[]> {
  const rows = (await db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .select('m.id', 'm.main_api_id', 'm.failure_report_claimed_at')
    .where({ 'm.source': 'main_api', 'm.status': 'failed' })
    .andWhere((q) => {
      void q.whereIn('c.last_error_class', ['INVALID_INPUT', 'GONE']).orWhereNotNull('c.gave_up_at');
    })
    .whereNull('m.failure_reported_at')
    .whereNull('m.callback_result')
    .whereNot('c.update_callback', 'completed')
    .andWhere((q) => {
      void q
        .whereNull('m.failure_report_claimed_at')
        .orWhere('m.failure_report_claimed_at', '<', now - FAILURE_REPORT_LEASE_MS);
    })
    .orderBy('m.failure_report_claimed_at')
    .orderBy('m.id')
    .limit(limit)) as Array<RawRow<MediaRecord, 'id' | 'main_api_id' | 'failure_report_claimed_at'>>;
  const claimed: FailureToReport[] = [];
  for (const row of rows.map(toMediaRecord)) {
    const previous = row.failure_report_claimed_at;
    const matched = await db('media_files')
      .where({ id: row.id })
      .whereNull('failure_reported_at')
      .andWhere((q) => {
        if (previous === null) void q.whereNull('failure_report_claimed_at');
        else void q.where('failure_report_claimed_at', previous);
      })
      .update({ failure_report_claimed_at: now });
    // A main API upload always has its main_api_id (0 only if the row was written by hand without one).
    if (matched === 1) claimed.push({ id: row.id, mainApiId: row.main_api_id ?? 0 });
  }
  return claimed;
}

/** The main API confirmed the cleanup call. */
export async function recordFailureReported(db: Db, id: number, now = Date.now()): Promise<void> {
  await retryDbTransaction(() =>
    db.transaction(async (trx) => {
      await trx('media_files').where({ id }).update({ failure_reported_at: now });
      await insertEvent(
        trx,
        id,
        null,
        {
          event: 'failure_reported',
          message: 'DELETE /api/media/cleanup sent to the main API',
        },
        now,
      );
    }),
  );
}
