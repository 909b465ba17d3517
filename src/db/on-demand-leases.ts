/**
 * The lease that makes an on-demand render single-flight across processes
 * and machines (on_demand_renders, one row per variant being rendered).
 *
 * - acquire: insert the row, or take over one whose lease ran out (its
 *   holder died); a compare-and-set on lease_expires_at, so of two takers
 *   one wins. The winner is whoever's token the row then carries.
 * - record: the fenced write, one transaction whose first statement deletes
 *   the row under our token (no row: the lease was taken over, nothing is
 *   written, LeaseLostError), then checks the item is still completed
 *   (cleanup may have deleted it meanwhile) and upserts the variant row.
 * - release: gives the lease up after a failed render, so a waiter takes
 *   over at once instead of after the lease.
 */
import { randomUUID } from 'node:crypto';
import { LeaseLostError } from '../errors.js';
import { isMysql, type Db } from './connect.js';
import { retryDbTransaction } from './fenced-update.js';
import { toNumber } from './row-values.js';
import { VARIANT_COLUMNS, toTimedVariantRow, type RawVariantRow, type VariantRow } from './variant-rows.js';

export interface VariantKey {
  mediaId: number;
  size: string;
  format: string;
  bg: string;
}

export interface RenderLease {
  key: VariantKey;
  token: string;
}

export type LeaseAttempt =
  { acquired: true; lease: RenderLease } | { acquired: false; holder: string; expiresAt: number };

function keyColumns(key: VariantKey) {
  return { media_id: key.mediaId, size: key.size, format: key.format, bg: key.bg };
}

export async function acquireRenderLease(
  db: Db,
  key: VariantKey,
  holder: string,
  leaseMs: number,
): Promise<LeaseAttempt> {
  const token = randomUUID();
  const now = Date.now();
  const lease = { token, holder: holder.slice(0, 128), lease_expires_at: now + leaseMs, started_at: now };
  await retryDbTransaction(async () => {
    await db('on_demand_renders')
      .insert({ ...keyColumns(key), ...lease })
      .onConflict(['media_id', 'size', 'format', 'bg'])
      .ignore();
    // A lease that ran out belongs to a holder that died (or stalled): take it over.
    await db('on_demand_renders').where(keyColumns(key)).andWhere('lease_expires_at', '<', now).update(lease);
  });
  const row = (await db('on_demand_renders').where(keyColumns(key)).first()) as
    { token: string; holder: string; lease_expires_at: number | string } | undefined;
  if (row?.token === token) return { acquired: true, lease: { key, token } };
  // No row: its holder recorded the variant between our two statements; the caller finds the variant.
  if (!row) return { acquired: false, holder: 'a finished render', expiresAt: now };
  return { acquired: false, holder: row.holder, expiresAt: toNumber(row.lease_expires_at) };
}

export type RecordOutcome = 'recorded' | 'item-gone';

/** Stores the rendered variant's row under the lease, releasing it; 'item-gone' when the item is no longer served. */
export async function recordOnDemandVariant(
  db: Db,
  lease: RenderLease,
  variant: VariantRow,
): Promise<RecordOutcome> {
  const { key } = lease;
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const released = await trx('on_demand_renders')
        .where({ ...keyColumns(key), token: lease.token })
        .delete();
      if (released === 0)
        throw new LeaseLostError(
          `item ${key.mediaId}: the on-demand render lease of ${key.size} ${key.format} was taken over; write refused`,
        );
      const media = trx('media_files').select('status', 'bulk_path').where({ id: key.mediaId });
      // On MariaDB lock the row against a concurrent deletion; SQLite's write transaction already excludes it.
      const row = (await (isMysql(db) ? media.forUpdate() : media).first()) as
        { status: string; bulk_path: string | null } | undefined;
      if (row?.status !== 'completed') return 'item-gone';
      await trx('media_variants').where(keyColumns(key)).delete();
      await trx('media_variants').insert({ ...variant, media_id: key.mediaId, created_at: Date.now() });
      return 'recorded';
    }),
  );
}

export async function releaseRenderLease(db: Db, lease: RenderLease): Promise<void> {
  await db('on_demand_renders')
    .where({ ...keyColumns(lease.key), token: lease.token })
    .delete();
}

/** The stored variant of this key (what a waiter looks for), or undefined. */
export async function findVariantOf(
  db: Db,
  key: VariantKey,
): Promise<(VariantRow & { createdAt: number }) | undefined> {
  const row = (await db('media_variants')
    .select(...VARIANT_COLUMNS, 'created_at')
    .where(keyColumns(key))
    .first()) as RawVariantRow<keyof VariantRow | 'created_at'> | undefined;
  return row && toTimedVariantRow(row);
}
