/**
 * The items a bulk action on the Items filter would touch: listMedia's own
 * filter (so the list, the count and the action can never disagree), live
 * items only (deleted ones cannot be requeued or deleted again), at most
 * MAX_IDS, the most one action may name (as /api/admin takes them).
 */
import type { Db } from '../../db/connect.js';
import { listMedia, type MediaListFilters } from '../../db/media-list.js';
import { MAX_IDS } from '../../http/admin-route-parts.js';

export interface FilteredSelection {
  /** The first MAX_IDS live matching ids, in id order. */
  ids: number[];
  /** More match than one action takes. */
  more: boolean;
}

/** Pages read while counting; a filter matching mostly deleted items stops here and says "more". */
const MAX_PAGES = 20;

export async function selectFiltered(
  db: Db,
  filters: Omit<MediaListFilters, 'limit' | 'afterId' | 'beforeId'>,
): Promise<FilteredSelection> {
  const ids: number[] = [];
  let afterId: number | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await listMedia(db, { ...filters, limit: MAX_IDS, ...(afterId ? { afterId } : {}) });
    for (const item of page.items) if (item.status !== 'deleted') ids.push(item.media_id);
    if (ids.length > MAX_IDS) return { ids: ids.slice(0, MAX_IDS), more: true };
    if (page.lastId === null) return { ids, more: false };
    afterId = page.lastId;
  }
  return { ids, more: true };
}

/**
 * The ids a confirmation page showed, as its form posts them back: one
 * comma-separated field (1000 ids fit well inside the 64 KiB form body).
 * Missing or malformed: undefined (then nothing is confirmed).
 */
export function parseConfirmedIds(fields: Record<string, unknown>): number[] | undefined {
  const raw = fields.ids;
  if (typeof raw !== 'string') return undefined;
  if (raw === '') return [];
  if (!/^[1-9]\d{0,14}(,[1-9]\d{0,14})*$/.test(raw)) return undefined;
  const ids = [...new Set(raw.split(',').map(Number))];
  return ids.length > MAX_IDS ? undefined : ids;
}

/** The confirmed ids that still match now (`current`); the rest are left alone. */
export function stillMatching(
  confirmed: readonly number[],
  current: readonly number[],
): { ids: number[]; gone: number } {
  const now = new Set(current);
  const ids = confirmed.filter((id) => now.has(id));
  return { ids, gone: confirmed.length - ids.length };
}
