/**
 * The claim order's first key (processing_checklist.priority, migration
 * claim_priority): smaller is claimed first. A new upload is queued at
 * NEW_WORK (the column's default); work an operator or the heal cycle puts
 * back (heals, requeues, re-renders, cleanup's re-queue of lost variants) at
 * BACKGROUND_WORK, so a backlog of it never delays a person waiting for a
 * fresh upload. The order is strict, not weighted: background work is
 * claimed whenever fewer new items are due than the worker has free slots,
 * and it keeps its place among other background work by due time.
 */
export const NEW_WORK_PRIORITY = 0;
export const BACKGROUND_WORK_PRIORITY = 10;
