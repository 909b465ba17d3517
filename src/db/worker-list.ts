/**
 * Every worker seen lately, live or not, and the items each one holds now
 * (the checklist's claim: worker_id with a claim token), with the step the
 * item is at: its first step still pending.
 */
import type { Db } from './connect.js';
import { toChecklistRecord, type ChecklistRecord } from './records.js';
import { toNumber, toNumberOrNull, type RawRow } from './row-values.js';
import { STEP_COLUMN, STEP_NAMES, type StepName } from './step-columns.js';
import type { WorkerRecord } from './workers.js';

/** More workers than a fleet runs: the page lists these and says when there were more. */
const MAX_WORKERS = 200;
/** More claims than a fleet's concurrency adds up to. */
const MAX_CLAIMS = 1000;

/** Workers whose heartbeat is younger than `sinceMs` (running, stopped or gone silent), newest first. */
export async function listRecentWorkers(db: Db, sinceMs: number, now = Date.now()): Promise<WorkerRecord[]> {
  const rows = (await db('workers')
    .where('heartbeat_at', '>=', now - sinceMs)
    .orderBy('heartbeat_at', 'desc')
    .limit(MAX_WORKERS)) as Array<RawRow<WorkerRecord>>;
  return rows.map((row) => ({
    worker_id: String(row.worker_id),
    host: String(row.host),
    pid: toNumber(row.pid),
    version: String(row.version),
    concurrency: toNumber(row.concurrency),
    started_at: toNumber(row.started_at),
    heartbeat_at: toNumber(row.heartbeat_at),
    stopped_at: toNumberOrNull(row.stopped_at),
  }));
}

export interface WorkerClaim {
  workerId: string;
  mediaId: number;
  /** The first step not done yet; null when every step is (the claim is finishing). */
  step: StepName | null;
  leaseExpiresAt: number | null;
}

type ClaimRow = Pick<
  ChecklistRecord,
  'media_id' | 'worker_id' | 'lease_expires_at' | (typeof STEP_COLUMN)[StepName]
>;

/** What every worker is holding now, by worker id. */
export async function listWorkerClaims(db: Db): Promise<Map<string, WorkerClaim[]>> {
  const raw = (await db('processing_checklist')
    .whereNotNull('claim_token')
    .whereNotNull('worker_id')
    .select('media_id', 'worker_id', 'lease_expires_at', ...STEP_NAMES.map((step) => STEP_COLUMN[step]))
    .orderBy('media_id')
    .limit(MAX_CLAIMS)) as Array<RawRow<ClaimRow>>;
  const claims = new Map<string, WorkerClaim[]>();
  for (const row of raw.map((r) => toChecklistRecord(r) as ClaimRow)) {
    const workerId = row.worker_id!;
    const step = STEP_NAMES.find((name) => row[STEP_COLUMN[name]] === 'pending') ?? null;
    const list = claims.get(workerId) ?? [];
    list.push({ workerId, mediaId: row.media_id, step, leaseExpiresAt: row.lease_expires_at });
    claims.set(workerId, list);
  }
  return claims;
}
