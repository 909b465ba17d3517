/** What the worker loop needs to decide how long to sleep: how much is queued, and when the next item falls due. */
import type { Db } from './connect.js';
import { toCount, toNumberOrNull } from './row-values.js';

export interface QueueOutlook {
  queued: number;
  nextDueAt: number | undefined;
}

export async function queueOutlook(db: Db): Promise<QueueOutlook> {
  const row = (await db('processing_checklist')
    .where({ state: 'queued' })
    .count({ queued: '*' })
    .min({ nextDueAt: 'next_attempt_at' })
    .first()) as { queued: number | string; nextDueAt: number | string | null } | undefined;
  return {
    queued: toCount(row?.queued),
    nextDueAt: toNumberOrNull(row?.nextDueAt ?? null) ?? undefined,
  };
}
