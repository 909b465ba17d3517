/**
 * Operator re-queueing: put items back to work from a chosen step (that step
 * and every later one start over). Items a live worker holds are left alone
 * and reported; deleted items are never re-queued.
 */
import type { Db } from './connect.js';
import { BACKGROUND_WORK_PRIORITY } from './claim-priority.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import { findChecklist, findMedia, stepStates, toChecklistRecord, type ChecklistRecord } from './records.js';
import type { RawRow } from './row-values.js';
import type { ChecklistChanges } from './fenced-types.js';
import { STEP_NAMES, stepColumnChanges, type StepName } from './step-columns.js';

export interface RequeueSelection {
  ids?: readonly number[];
  /** Only items whose checklist is failed (all of them when no ids are given). */
  failedOnly?: boolean;
  /** Only failed items that failed at or after this time. */
  failedSince?: number;
  fromStep?: StepName;
}

export interface RequeueResult {
  requeued: number[];
  skipped: Array<{ id: number; reason: string }>;
}

export async function selectFailedIds(db: Db, selection: RequeueSelection): Promise<number[]> {
  const query = db('processing_checklist').select('media_id').where({ state: 'failed' }).orderBy('media_id');
  if (selection.failedSince !== undefined) query.andWhere('failed_at', '>=', selection.failedSince);
  if (selection.ids) query.whereIn('media_id', selection.ids);
  const rows = (await query) as Array<RawRow<ChecklistRecord, 'media_id'>>;
  return rows.map((row) => toChecklistRecord(row).media_id);
}

export async function requeueItems(
  db: Db,
  ids: readonly number[],
  fromStep?: StepName,
): Promise<RequeueResult> {
  const result: RequeueResult = { requeued: [], skipped: [] };
  for (const id of ids) {
    const reason = await requeueOne(db, id, fromStep);
    if (reason === undefined) result.requeued.push(id);
    else result.skipped.push({ id, reason });
  }
  return result;
}

/** analyse and resize read the kept original (bulk_path); retrieve fetches it again, callback needs none. */
function needsOriginal(step: StepName | null | undefined): boolean {
  return step === 'analyse' || step === 'resize';
}

async function requeueOne(db: Db, id: number, fromStep: StepName | undefined): Promise<string | undefined> {
  const [media, checklist] = await Promise.all([findMedia(db, id), findChecklist(db, id)]);
  if (!media || !checklist) return 'no such item';
  if (media.status === 'deleted') return 'deleted items cannot be requeued';
  const start =
    fromStep ??
    (checklist.failed_step as StepName | null) ??
    stepStates(checklist).find((s) => s.status !== 'completed' && s.status !== 'skipped')?.step ??
    'retrieve';
  if (needsOriginal(start) && media.bulk_path === null)
    return 'its original is no longer kept (retention): only --step retrieve or callback can be requeued';
  let reset: ChecklistChanges = {};
  for (const step of STEP_NAMES.slice(STEP_NAMES.indexOf(start)))
    reset = { ...reset, ...stepColumnChanges(step, { status: 'pending', attempts: 0 }) };
  const now = Date.now();
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('processing_checklist')
        .where({ media_id: id })
        .andWhere((q) => {
          void q.whereNull('claim_token').orWhere('lease_expires_at', '<', now);
        })
        .update({
          ...reset,
          state: 'queued',
          next_attempt_at: now,
          // Requeues and re-renders are background work: new uploads are claimed before them.
          priority: BACKGROUND_WORK_PRIORITY,
          claim_token: null,
          worker_id: null,
          lease_expires_at: null,
          taken_over_from: null,
          failed_step: null,
          failed_at: null,
          // An operator's requeue is a fresh start: a new heal budget, and nothing given up.
          gave_up_at: null,
          heal_count: 0,
          updated_at: now,
        });
      if (matched === 0) return `being processed by ${checklist.worker_id ?? 'another worker'}`;
      // A served item keeps being served while its callback is re-sent or its variants re-made
      // (they are replaced in one transaction); only a new retrieve takes it offline.
      const keepsServing = start !== 'retrieve' && media.status === 'completed';
      if (!keepsServing) {
        await trx('media_files')
          .where({ id })
          .update({ status: 'pending', completed_at: null, updated_at: now });
      }
      await insertEvent(
        trx,
        id,
        null,
        { step: start, event: 'requeued', message: `requeued from step ${start}` },
        now,
      );
      return undefined;
    }),
  );
}
