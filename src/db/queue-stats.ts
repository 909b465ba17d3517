/** Numbers for `stats`: items by status and step, failures by error class, oldest pending age, live workers. */
import type { Db } from './connect.js';
import { toCount, toNumberOrNull } from './row-values.js';
import { STEP_COLUMN, STEP_NAMES, type StepName } from './step-columns.js';
import { listLiveWorkers, type WorkerRecord } from './workers.js';

export interface QueueStats {
  byStatus: Record<string, number>;
  bySteps: Record<StepName, Record<string, number>>;
  failuresByClass: Record<string, number>;
  /** What the main API answered to completions (upload_unknown: it no longer knew the upload). */
  callbackResults: Record<string, number>;
  /** Failed for good once their heal budget was spent ("retries exhausted"). */
  gaveUp: number;
  oldestPendingAgeMs: number | null;
  dueNow: number;
  waitingForRetry: number;
  leased: number;
  liveWorkers: WorkerRecord[];
}

async function countBy(
  db: Db,
  table: string,
  column: string,
  where: Record<string, unknown> = {},
): Promise<Record<string, number>> {
  const rows = (await db(table)
    .select(`${column} as key`)
    .count({ n: '*' })
    .where(where)
    .groupBy(column)) as Array<{
    key: string | null;
    n: unknown;
  }>;
  return Object.fromEntries(rows.map((row) => [row.key ?? 'none', toCount(row.n)]));
}

/** Items by media status. */
export function countByStatus(db: Db): Promise<Record<string, number>> {
  return countBy(db, 'media_files', 'status');
}

/** How long the oldest unfinished item has waited, or null when none is waiting. */
export async function oldestPendingAgeMs(db: Db, now = Date.now()): Promise<number | null> {
  const oldest = (await db('media_files')
    .whereIn('status', ['pending', 'downloading', 'processing'])
    .min({ at: 'created_at' })
    .first()) as { at: unknown } | undefined;
  const at = toNumberOrNull(oldest?.at);
  return at === null ? null : now - at;
}

export async function queueStats(db: Db, liveWorkerMs: number): Promise<QueueStats> {
  const now = Date.now();
  const bySteps = {} as Record<StepName, Record<string, number>>;
  for (const step of STEP_NAMES) bySteps[step] = await countBy(db, 'processing_checklist', STEP_COLUMN[step]);
  const queued = (await db('processing_checklist')
    .where({ state: 'queued' })
    .select(
      db.raw('SUM(CASE WHEN claim_token IS NULL AND next_attempt_at <= ? THEN 1 ELSE 0 END) AS due', [now]),
      db.raw('SUM(CASE WHEN claim_token IS NULL AND next_attempt_at > ? THEN 1 ELSE 0 END) AS waiting', [
        now,
      ]),
      db.raw('SUM(CASE WHEN claim_token IS NOT NULL THEN 1 ELSE 0 END) AS leased'),
    )
    .first()) as { due: unknown; waiting: unknown; leased: unknown } | undefined;
  return {
    byStatus: await countByStatus(db),
    bySteps,
    failuresByClass: await countBy(db, 'processing_checklist', 'last_error_class', { state: 'failed' }),
    callbackResults: await countCallbackResults(db),
    gaveUp: await countGaveUp(db),
    oldestPendingAgeMs: await oldestPendingAgeMs(db, now),
    dueNow: toCount(queued?.due),
    waitingForRetry: toCount(queued?.waiting),
    leased: toCount(queued?.leased),
    liveWorkers: await listLiveWorkers(db, liveWorkerMs),
  };
}

/** Completions by what the main API answered (accepted, accepted_minimal, already_processed, upload_unknown). */
export async function countCallbackResults(db: Db): Promise<Record<string, number>> {
  const counts = await countBy(db, 'media_files', 'callback_result');
  delete counts.none;
  return counts;
}

/** Items failed for good because their heal budget was spent. */
export async function countGaveUp(db: Db): Promise<number> {
  const row = (await db('processing_checklist')
    .where({ state: 'failed' })
    .whereNotNull('gave_up_at')
    .count({ n: '*' })
    .first()) as { n: unknown } | undefined;
  return toCount(row?.n);
}
