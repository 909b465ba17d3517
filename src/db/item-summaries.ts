/**
 * What the dashboard's item list shows beside listMedia's rows (which are
 * GET /api/media's answer and stay as they are): the original name, the
 * main API id and the last error, for one page of ids (primary-key lookups).
 */
import type { Db } from './connect.js';
import { toNumber, toNumberOrNull, toTextOrNull } from './row-values.js';

export interface ItemSummary {
  originalName: string | null;
  mainApiId: number | null;
  failedStep: string | null;
  errorClass: string | null;
  lastError: string | null;
}

export async function itemSummaries(db: Db, ids: readonly number[]): Promise<Map<number, ItemSummary>> {
  if (ids.length === 0) return new Map();
  const rows = (await db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .select('m.id', 'm.original_name', 'm.main_api_id', 'c.failed_step', 'c.last_error_class', 'c.last_error')
    .whereIn('m.id', ids)) as Array<Record<string, unknown>>;
  return new Map(
    rows.map((row) => [
      toNumber(row.id),
      {
        originalName: toTextOrNull(row.original_name),
        mainApiId: toNumberOrNull(row.main_api_id),
        failedStep: toTextOrNull(row.failed_step),
        errorClass: toTextOrNull(row.last_error_class),
        lastError: toTextOrNull(row.last_error),
      },
    ]),
  );
}
