/**
 * Claiming: pick the items that are due, mark them ours with a fresh claim
 * token and a lease, in one short transaction (solid_queue's select_and_lock).
 *
 * The lease is folded into next_attempt_at: a claimed row's next_attempt_at is
 * its lease end, so "due" already means "not leased by a live worker". New
 * work comes first (claim-priority.ts): the order is (priority,
 * next_attempt_at, media_id), read straight from the (state, priority,
 * next_attempt_at, media_id) index without a sort; rows not yet due are
 * skipped inside the index. On MySQL/MariaDB SKIP LOCKED then locks only the
 * rows it returns; on SQLite one UPDATE … RETURNING is atomic on its own.
 */
import { randomUUID } from 'node:crypto';
import { isMysql, type Db } from './connect.js';
import { toNumber } from './row-values.js';
import { retryDbTransaction } from './fenced-update.js';

export interface ClaimedItem {
  readonly mediaId: number;
  readonly claimToken: string;
  /** The worker whose lease expired while it held this item, if this claim took it over. */
  readonly takenOverFrom: string | null;
}

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  limit: number;
  now?: number;
}

export async function claimItems(db: Db, options: ClaimOptions): Promise<ClaimedItem[]> {
  if (options.limit <= 0) return [];
  const claim = isMysql(db) ? claimOnMysql : claimOnSqlite;
  return retryDbTransaction(() => claim(db, options, randomUUID(), options.now ?? Date.now()));
}

/** Assignments shared by both dialects. taken_over_from comes first: MySQL evaluates SET left to right. */
const CLAIM_ASSIGNMENTS = `
  taken_over_from = CASE WHEN claim_token IS NOT NULL THEN worker_id ELSE NULL END,
  worker_id = ?, claim_token = ?, lease_expires_at = ?, next_attempt_at = ?, updated_at = ?`;

/** The due rows, locked, skipping those another claim holds. Exported for the EXPLAIN test (it must run this text). */
export const MYSQL_CLAIM_SELECT = `SELECT media_id, claim_token, worker_id FROM processing_checklist FORCE INDEX (checklist_priority_claim_idx)
  WHERE state = 'queued' AND next_attempt_at <= ?
  ORDER BY priority, next_attempt_at, media_id LIMIT ? FOR UPDATE SKIP LOCKED`;

async function claimOnMysql(
  db: Db,
  options: ClaimOptions,
  token: string,
  now: number,
): Promise<ClaimedItem[]> {
  const leaseEnd = now + options.leaseMs;
  return db.transaction(
    async (trx) => {
      const [rows] = (await trx.raw(MYSQL_CLAIM_SELECT, [now, options.limit])) as [
        Array<{ media_id: number | string; claim_token: string | null; worker_id: string | null }>,
        unknown,
      ];
      if (rows.length === 0) return [];
      await trx.raw(
        `UPDATE processing_checklist SET ${CLAIM_ASSIGNMENTS} WHERE media_id IN (${rows.map(() => '?').join(',')})`,
        [options.workerId, token, leaseEnd, leaseEnd, now, ...rows.map((row) => row.media_id)],
      );
      // The rows are locked: what the UPDATE did is known without reading them back (CLAIM_ASSIGNMENTS' CASE).
      return rows.map((row) =>
        toClaimedItem({
          media_id: row.media_id,
          claim_token: token,
          taken_over_from: row.claim_token !== null ? row.worker_id : null,
        }),
      );
    },
    // READ COMMITTED: set for every connection in connect.ts.
  );
}

/** The SQLite claim's inner SELECT, for its EXPLAIN QUERY PLAN test. */
export const SQLITE_CLAIM_SELECT = `SELECT media_id FROM processing_checklist INDEXED BY checklist_priority_claim_idx
  WHERE state = 'queued' AND next_attempt_at <= ?
  ORDER BY priority, next_attempt_at, media_id LIMIT ?`;

async function claimOnSqlite(
  db: Db,
  options: ClaimOptions,
  token: string,
  now: number,
): Promise<ClaimedItem[]> {
  const leaseEnd = now + options.leaseMs;
  const rows = (await db.raw(
    `UPDATE processing_checklist SET ${CLAIM_ASSIGNMENTS}
      WHERE media_id IN (${SQLITE_CLAIM_SELECT})
      RETURNING media_id, claim_token, taken_over_from`,
    [options.workerId, token, leaseEnd, leaseEnd, now, now, options.limit],
  )) as Array<{ media_id: number; claim_token: string; taken_over_from: string | null }>;
  return rows.map(toClaimedItem).sort((a, b) => a.mediaId - b.mediaId);
}

function toClaimedItem(row: {
  media_id: number | string;
  claim_token: string;
  taken_over_from: string | null;
}): ClaimedItem {
  return { mediaId: toNumber(row.media_id), claimToken: row.claim_token, takenOverFrom: row.taken_over_from };
}

/** Pushes the lease of every item held under these tokens forward; returns the media ids still held. */
export async function extendLeases(db: Db, tokens: readonly string[], leaseMs: number): Promise<Set<number>> {
  if (tokens.length === 0) return new Set();
  const leaseEnd = Date.now() + leaseMs;
  // No outage ride: a lease end computed before a 30 s wait would be stale; the next beat retries.
  await retryDbTransaction(
    () =>
      db('processing_checklist')
        .whereIn('claim_token', tokens)
        .update({ lease_expires_at: leaseEnd, next_attempt_at: leaseEnd, updated_at: Date.now() }),
    { rideOutage: false },
  );
  const rows = (await db('processing_checklist').select('media_id').whereIn('claim_token', tokens)) as Array<{
    media_id: number | string;
  }>;
  return new Set(rows.map((row) => toNumber(row.media_id)));
}
