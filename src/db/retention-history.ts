/**
 * What retention and cleanup have removed, as the rows record it: items
 * marked deleted (media_files.deleted_at) and originals removed by the
 * originals retention (their `original_expired` events), over all time and
 * the last day and week; and the newest cleanup run in the admin audit.
 */
import type { Db } from './connect.js';
import { toCount } from './row-values.js';

export interface RemovedCounts {
  total: number;
  lastDay: number;
  lastWeek: number;
}

export interface RetentionHistory {
  itemsDeleted: RemovedCounts;
  originalsRemoved: RemovedCounts;
}

const DAY_MS = 86_400_000;

function windowed(db: Db, column: string, now: number) {
  return [
    db.raw('COUNT(*) AS total'),
    db.raw(`SUM(CASE WHEN ${column} >= ? THEN 1 ELSE 0 END) AS last_day`, [now - DAY_MS]),
    db.raw(`SUM(CASE WHEN ${column} >= ? THEN 1 ELSE 0 END) AS last_week`, [now - 7 * DAY_MS]),
  ];
}

type WindowRow = { total: unknown; last_day: unknown; last_week: unknown } | undefined;

const counts = (row: WindowRow): RemovedCounts => ({
  total: toCount(row?.total),
  lastDay: toCount(row?.last_day),
  lastWeek: toCount(row?.last_week),
});

/** The events query reads every original_expired event (no index on event): an operator's query, not a scrape's. */
export async function retentionHistory(db: Db, now = Date.now()): Promise<RetentionHistory> {
  const items = (await db('media_files')
    .where({ status: 'deleted' })
    .select(windowed(db, 'deleted_at', now))
    .first()) as WindowRow;
  const originals = (await db('processing_events')
    .where({ event: 'original_expired' })
    .select(windowed(db, 'at', now))
    .first()) as WindowRow;
  return { itemsDeleted: counts(items), originalsRemoved: counts(originals) };
}
