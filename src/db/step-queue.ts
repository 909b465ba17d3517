/**
 * Where the unfinished items are: each queued item at its first step still
 * pending, split into in progress (claimed by a worker) and waiting. Counted
 * in SQL (CASE over the step columns) so a large backlog is not read row by
 * row; both databases accept the aliases in GROUP BY.
 */
import type { Db } from './connect.js';
import { toCount, toText } from './row-values.js';
import { STEP_COLUMN, STEP_NAMES, type StepName } from './step-columns.js';

export interface StepQueue {
  inProgress: number;
  queued: number;
}

export async function queueBySteps(db: Db): Promise<Record<StepName, StepQueue>> {
  const firstPending = `CASE ${STEP_NAMES.map((step) => `WHEN ${STEP_COLUMN[step]} = 'pending' THEN '${step}'`).join(' ')} ELSE 'none' END`;
  const rows = (await db('processing_checklist')
    .where({ state: 'queued' })
    .select(
      db.raw(`${firstPending} AS at_step`),
      db.raw('CASE WHEN claim_token IS NULL THEN 0 ELSE 1 END AS claimed'),
    )
    .count({ n: '*' })
    .groupBy('at_step', 'claimed')) as Array<{ at_step: unknown; claimed: unknown; n: unknown }>;
  const counts = Object.fromEntries(STEP_NAMES.map((step) => [step, { inProgress: 0, queued: 0 }])) as Record<
    StepName,
    StepQueue
  >;
  for (const row of rows) {
    const entry = counts[toText<StepName>(row.at_step)];
    if (!entry) continue;
    if (toCount(row.claimed) > 0) entry.inProgress += toCount(row.n);
    else entry.queued += toCount(row.n);
  }
  return counts;
}
