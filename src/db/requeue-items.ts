/**
 * Operator re-queueing: put items back to work from a chosen step (that step
 * and every later one start over). Items a live worker holds are left alone
 * and reported; deleted items are never re-queued. A served item is requeued
 * only from a step the operator names, and never into a retrieve that is
 * known to fail (its original and its source both gone). The reset is
 * guarded by the checklist as it was read, so a worker finishing the item
 * in between is not overwritten from stale state.
 */
import type { Db } from './connect.js';
import { BACKGROUND_WORK_PRIORITY } from './claim-priority.js';
import { insertEvent, retryDbTransaction } from './fenced-update.js';
import {
  findChecklist,
  findMedia,
  stepStates,
  toChecklistRecord,
  type ChecklistRecord,
  type MediaRecord,
} from './records.js';
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

export interface RequeueOptions {
  /**
   * Whether an HTTP upload's incoming/ object (its source_path) is still
   * stored: asked before a served item without a kept original is sent back
   * to retrieve. Without it, the object is assumed to be there.
   */
  incomingExists?: (key: string) => Promise<boolean>;
}

export async function requeueItems(
  db: Db,
  ids: readonly number[],
  fromStep?: StepName,
  options: RequeueOptions = {},
): Promise<RequeueResult> {
  const result: RequeueResult = { requeued: [], skipped: [] };
  for (const id of ids) {
    const reason = await requeueOne(db, id, fromStep, options);
    if (reason === undefined) result.requeued.push(id);
    else result.skipped.push({ id, reason });
  }
  return result;
}

/** Why a served item is not requeued when no step is named (its default would be a new retrieve). */
export const SERVED_NEEDS_STEP =
  'completed and served: name a step (analyse, resize or callback) to re-run it';

/** The checklist as a requeue planned from it: the reset applies only if the row is still so. */
interface SeenState {
  state: ChecklistRecord['state'];
  updatedAt: number;
}

/** What a requeue of one item does, decided from its rows as read: or why it is not requeued. */
export type RequeuePlan = { start: StepName; keepsServing: boolean; seen: SeenState } | { refused: string };

/** The item changed between planRequeue's read and applyRequeue's update (a worker finished it, say). */
export const CHANGED = Symbol('changed since it was read');

/** Reads are retried this often when the item keeps changing under the requeue. */
const PLAN_ATTEMPTS = 3;

async function requeueOne(
  db: Db,
  id: number,
  fromStep: StepName | undefined,
  options: RequeueOptions,
): Promise<string | undefined> {
  for (let attempt = 0; attempt < PLAN_ATTEMPTS; attempt++) {
    const plan = await planRequeue(db, id, fromStep, options);
    if ('refused' in plan) return plan.refused;
    const applied = await applyRequeue(db, id, plan);
    if (applied !== CHANGED) return applied;
  }
  return 'it kept changing while being requeued (a worker is busy with it); try again';
}

/** analyse and resize read the kept original (bulk_path); retrieve fetches it again, callback needs none. */
function needsOriginal(step: StepName | null | undefined): boolean {
  return step === 'analyse' || step === 'resize';
}

export async function planRequeue(
  db: Db,
  id: number,
  fromStep: StepName | undefined,
  options: RequeueOptions = {},
): Promise<RequeuePlan> {
  const [media, checklist] = await Promise.all([findMedia(db, id), findChecklist(db, id)]);
  if (!media || !checklist) return { refused: 'no such item' };
  if (media.status === 'deleted') return { refused: 'deleted items cannot be requeued' };
  const served = media.status === 'completed';
  const unfinished =
    (checklist.failed_step as StepName | null) ??
    stepStates(checklist).find((s) => s.status !== 'completed' && s.status !== 'skipped')?.step;
  // A served item has nothing to resume: restarting it from retrieve by default would take it
  // offline and, its upstream file long gone, fail it. Re-running anything is the operator's call.
  if (fromStep === undefined && unfinished === undefined && served) return { refused: SERVED_NEEDS_STEP };
  const start = fromStep ?? unfinished ?? 'retrieve';
  if (needsOriginal(start) && media.bulk_path === null)
    return {
      refused: 'its original is no longer kept (retention): only --step retrieve or callback can be requeued',
    };
  if (start === 'retrieve' && served && media.bulk_path === null) {
    const gone = await sourceGone(media, options);
    if (gone)
      return {
        refused: `served, and ${gone}: a retrieve would fail it; only --step callback can be requeued`,
      };
  }
  // Only a new retrieve takes a served item offline: re-sent callbacks and re-made variants
  // replace what is served in one transaction.
  const keepsServing = start !== 'retrieve' && served;
  return { start, keepsServing, seen: { state: checklist.state, updatedAt: checklist.updated_at } };
}

/** Why a retrieve of this item (no kept original) cannot get its bytes again, if it is known. */
async function sourceGone(media: MediaRecord, options: RequeueOptions): Promise<string | undefined> {
  // The main API's upload is a temp file it removes once the item is delivered.
  if (media.source === 'main_api')
    return 'its original is gone (not kept, and the main API’s temp file is removed)';
  if (media.source === 'http' && options.incomingExists && !(await options.incomingExists(media.source_path)))
    return `its original is gone (not kept, and the upload ${media.source_path} is removed)`;
  return undefined;
}

/**
 * Resets the checklist from the plan's step, in one transaction, only if the
 * row is as the plan read it and no live worker holds it: a worker that
 * finished (or failed) the item in between is not overwritten from stale state.
 */
export async function applyRequeue(
  db: Db,
  id: number,
  plan: Exclude<RequeuePlan, { refused: string }>,
): Promise<string | undefined | typeof CHANGED> {
  const { start, keepsServing, seen } = plan;
  let reset: ChecklistChanges = {};
  for (const step of STEP_NAMES.slice(STEP_NAMES.indexOf(start)))
    reset = { ...reset, ...stepColumnChanges(step, { status: 'pending', attempts: 0 }) };
  const now = Date.now();
  return retryDbTransaction(() =>
    db.transaction(async (trx) => {
      const matched = await trx('processing_checklist')
        .where({ media_id: id, state: seen.state, updated_at: seen.updatedAt })
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
      if (matched === 0) return heldOrChanged(trx, id, now);
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

/** Why the guarded reset matched nothing: a live worker holds the item, or it changed since it was read. */
async function heldOrChanged(trx: Db, id: number, now: number): Promise<string | typeof CHANGED> {
  const current = await findChecklist(trx, id);
  const held = current?.claim_token != null && (current.lease_expires_at ?? 0) >= now;
  return held ? `being processed by ${current.worker_id ?? 'another worker'}` : CHANGED;
}
