/** The items `media-worker render` may pre-render sizes of: completed, original kept, in id order, a page at a time. */
import type { Db } from './connect.js';
import { toNumber } from './row-values.js';

export interface RenderSelection {
  ids?: readonly number[];
  /** Only items registered at or after this time (epoch ms). */
  since?: number;
}

function candidates(db: Db, selection: RenderSelection) {
  const query = db('media_files').where({ status: 'completed' }).whereNotNull('bulk_path');
  if (selection.ids) query.whereIn('id', selection.ids);
  if (selection.since !== undefined) query.andWhere('created_at', '>=', selection.since);
  return query;
}

/** How many items the selection holds (the progress bar's total). */
export async function countRenderCandidates(db: Db, selection: RenderSelection): Promise<number> {
  const row = (await candidates(db, selection).count({ n: '*' }).first()) as { n: unknown } | undefined;
  return toNumber(row?.n ?? 0);
}

export async function selectRenderCandidates(
  db: Db,
  selection: RenderSelection,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const query = candidates(db, selection)
    .select('id')
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit);
  const rows = (await query) as Array<{ id: unknown }>;
  return rows.map((row) => toNumber(row.id));
}
