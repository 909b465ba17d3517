/**
 * Items finished per time slot: the item's `completed` event (the one with
 * no step: a step's completion is a `completed` event with its step) and its
 * `failed` event (written when the item fails for good; a retry is
 * `retry_scheduled`), each in the same transaction as the state change. One
 * row per event kind, one SUM per slot: portable to SQLite and MariaDB
 * without date or integer-division functions that differ between them.
 */
import type { Db } from './connect.js';
import { toCount, toText } from './row-values.js';

export interface ThroughputSlot {
  /** The slot's start, epoch ms; it ends where the next begins. */
  startAt: number;
  completed: number;
  failed: number;
}

export interface ThroughputOptions {
  slotMs: number;
  slots: number;
  now?: number;
}

/**
 * Oldest slot first; the last one ends at `now`. Served by the (event, at)
 * index (migration 20261201100000): two short ranges of the last hour, not
 * the event history.
 */
export async function throughputHistory(db: Db, options: ThroughputOptions): Promise<ThroughputSlot[]> {
  const now = options.now ?? Date.now();
  const starts = Array.from({ length: options.slots }, (_, i) => now - (options.slots - i) * options.slotMs);
  const sums = starts.map((start, i) =>
    db.raw(`SUM(CASE WHEN at >= ? AND at < ? THEN 1 ELSE 0 END) AS s${i}`, [start, start + options.slotMs]),
  );
  const rows = (await db('processing_events')
    .where(
      (finished) =>
        void finished.where({ event: 'completed' }).whereNull('step').orWhere({ event: 'failed' }),
    )
    .andWhere('at', '>=', starts[0] ?? now)
    .select('event', ...sums)
    .groupBy('event')) as Array<Record<string, unknown>>;
  const countsOf = (event: string) => rows.find((row) => toText(row.event) === event);
  const completed = countsOf('completed');
  const failed = countsOf('failed');
  return starts.map((startAt, i) => ({
    startAt,
    completed: toCount(completed?.[`s${i}`]),
    failed: toCount(failed?.[`s${i}`]),
  }));
}
