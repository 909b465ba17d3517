/**
 * What an operator's requeue of some ids would do to serving and
 * downloading, before it runs (the dashboard's confirmation): which are
 * served now, and which would restart from retrieve with no step chosen
 * (requeue-items.ts's default: the failed step, else the first unfinished,
 * else retrieve).
 */
import type { Db } from './connect.js';
import { STEP_COLUMN, STEP_NAMES } from './step-columns.js';

export interface ServingFacts {
  /** Served now (media_files.status completed). */
  served: number[];
  /** Would restart from retrieve with no step chosen (their failed step, or retrieve unfinished). */
  defaultRetrieve: number[];
}

/** What a requeue of these ids would do to serving and downloading (requeue-items.ts's rules). */
export async function servingFacts(db: Db, ids: readonly number[]): Promise<ServingFacts> {
  const facts: ServingFacts = { served: [], defaultRetrieve: [] };
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('media_files as m')
      .join('processing_checklist as c', 'c.media_id', 'm.id')
      .select('m.id', 'm.status', 'c.failed_step', ...STEP_NAMES.map((step) => `c.${STEP_COLUMN[step]}`))
      .whereIn('m.id', ids.slice(i, i + 500))) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const id = Number(row.id);
      if (row.status === 'completed') facts.served.push(id);
      const unfinished = STEP_NAMES.find((step) => {
        const status = row[STEP_COLUMN[step]];
        return status !== 'completed' && status !== 'skipped';
      });
      // requeue-items.ts's default start: the failed step, else the first unfinished, else retrieve.
      const start = (row.failed_step as string | null) ?? unfinished ?? 'retrieve';
      if (start === 'retrieve') facts.defaultRetrieve.push(id);
    }
  }
  return facts;
}
