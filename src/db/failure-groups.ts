/**
 * Failed items grouped by error class and message (the dashboard's
 * Failures page): how many, and the newest example. A failure here is what
 * the Items list (and the API) calls failed: checklist state 'failed' on an
 * item that is not served (media_files.status neither completed nor
 * deleted; media-list.ts's status=failed), so a group's count is what its
 * link to the Items list shows. A served item whose callback failed is
 * completed for the API and is not here (Items, step callback, lists it).
 * checklist_heal_idx (state, last_error_class,
 * failed_at) serves the state and class; the message is grouped in a pass
 * over the failed rows, which are few next to the table.
 */
import type { Knex } from 'knex';
import type { Db } from './connect.js';
import { toCount, toNumber, toNumberOrNull, toTextOrNull } from './row-values.js';

export interface FailureGroup {
  errorClass: string | null;
  message: string | null;
  count: number;
  /** The group's most recently failed item, and when. */
  newestId: number;
  newestAt: number | null;
  newestName: string | null;
}

export interface FailureGroupFilters {
  errorClass?: string;
  /** Most groups answered (the largest first). */
  limit: number;
}

/** One group: its class and message as stored (null is its own group). */
export interface FailureGroupKey {
  errorClass: string | null;
  message: string | null;
}

function whereGroup<Q extends Knex.QueryBuilder>(q: Q, key: FailureGroupKey): Q {
  if (key.errorClass === null) void q.whereNull('c.last_error_class');
  else void q.where('c.last_error_class', key.errorClass);
  if (key.message === null) void q.whereNull('c.last_error');
  else void q.where('c.last_error', key.message);
  return q;
}

/** Failed and not served: itemStatus 'failed' (media-list.ts's whereStatus), as SQL. */
function failedItems(db: Db): Knex.QueryBuilder {
  return db('processing_checklist as c')
    .join('media_files as m', 'm.id', 'c.media_id')
    .where('c.state', 'failed')
    .whereNotIn('m.status', ['completed', 'deleted']);
}

export async function listFailureGroups(db: Db, filters: FailureGroupFilters): Promise<FailureGroup[]> {
  const q = failedItems(db)
    .select('c.last_error_class', 'c.last_error')
    .count({ n: '*' })
    .groupBy('c.last_error_class', 'c.last_error')
    .orderBy('n', 'desc')
    .orderBy('c.last_error_class')
    .limit(filters.limit);
  if (filters.errorClass !== undefined) void q.where('c.last_error_class', filters.errorClass);
  const rows = (await q) as Array<{ last_error_class: unknown; last_error: unknown; n: unknown }>;
  const groups: FailureGroup[] = [];
  // One lookup per group for its newest example: the groups are few (limit), the failed rows may be many.
  for (const row of rows) {
    const key = { errorClass: toTextOrNull(row.last_error_class), message: toTextOrNull(row.last_error) };
    const newest = (await whereGroup(
      failedItems(db).select('c.media_id', 'c.failed_at', 'm.original_name'),
      key,
    )
      .orderBy('c.failed_at', 'desc')
      .orderBy('c.media_id', 'desc')
      .first()) as { media_id: unknown; failed_at: unknown; original_name: unknown } | undefined;
    if (!newest) continue; // requeued between the two reads
    groups.push({
      ...key,
      count: toCount(row.n),
      newestId: toNumber(newest.media_id),
      newestAt: toNumberOrNull(newest.failed_at),
      newestName: toTextOrNull(newest.original_name),
    });
  }
  return groups;
}

/** The failed items of one group, in id order, at most `limit` (what one requeue may name). */
export async function failureGroupIds(db: Db, key: FailureGroupKey, limit: number): Promise<number[]> {
  const rows = (await whereGroup(failedItems(db).select('c.media_id'), key)
    .orderBy('c.media_id')
    .limit(limit)) as Array<{ media_id: unknown }>;
  return rows.map((row) => toNumber(row.media_id));
}

/** How many items are in one group. */
export async function countFailureGroup(db: Db, key: FailureGroupKey): Promise<number> {
  const row = (await whereGroup(failedItems(db).count({ n: '*' }), key).first()) as
    { n: unknown } | undefined;
  return toCount(row?.n);
}

/** Failed items whose last error was transient: what an operator's heal re-queues (heal-items.ts). */
export async function countHealable(db: Db): Promise<number> {
  const row = (await db('processing_checklist')
    .count({ n: '*' })
    .where({ state: 'failed', last_error_class: 'TRANSIENT' })
    .first()) as { n: unknown } | undefined;
  return toCount(row?.n);
}
