/**
 * requeue and heal, as `media-worker requeue|heal` and
 * POST /api/admin/requeue|heal run them (one function each, audited).
 */
import { healFailedItems } from '../db/heal-items.js';
import { requeueItems, selectFailedIds, type RequeueResult } from '../db/requeue-items.js';
import type { StepName } from '../db/step-columns.js';
import type { AdminContext } from './admin-context.js';
import { runAudited, type ActionResult } from './audited.js';

export interface RequeueRequest {
  /** Named items; with `failedOnly`, only those of them that failed. */
  ids: readonly number[];
  /** Only failed items; with no ids, every failed item. */
  failedOnly: boolean;
  /** With failedOnly: only items that failed within this many ms. */
  failedWithinMs?: number;
  /**
   * Default: each item's failed step, else its first unfinished one; a served
   * item with neither is skipped (a step must be named to re-run it).
   */
  fromStep?: StepName;
}

export interface RequeueOutcome extends RequeueResult {
  selected: number;
  /** False when the selection was not confirmed (then nothing was requeued). */
  confirmed: boolean;
}

/**
 * Asked before a --failed selection is requeued (the CLI's terminal prompt);
 * the API's request is its own confirmation.
 */
export type ConfirmSelection = (count: number) => Promise<boolean>;

export async function requeueAction(
  context: AdminContext,
  actor: string,
  request: RequeueRequest,
  confirm?: ConfirmSelection,
): Promise<ActionResult<RequeueOutcome>> {
  const parameters = {
    ids: request.ids,
    failed: request.failedOnly,
    failed_within_ms: request.failedWithinMs ?? null,
    step: request.fromStep ?? null,
  };
  return runAudited(context, { actor, action: 'requeue', parameters }, async () => {
    const { db } = context;
    const selected = request.failedOnly
      ? await selectFailedIds(db, {
          ...(request.ids.length > 0 ? { ids: request.ids } : {}),
          ...(request.failedWithinMs !== undefined
            ? { failedSince: Date.now() - request.failedWithinMs }
            : {}),
        })
      : [...request.ids];
    if (confirm && !(await confirm(selected.length))) {
      const result = { selected: selected.length, confirmed: false, requeued: [], skipped: [] };
      return { outcome: 'refused', detail: `not confirmed: ${selected.length} selected`, result };
    }
    const requeued = await requeueItems(db, selected, request.fromStep, {
      incomingExists: async (key) => (await context.store.stat(key)) !== undefined,
    });
    const result = { selected: selected.length, confirmed: true, ...requeued };
    const counts = `requeued ${result.requeued.length} of ${selected.length} selected, skipped ${result.skipped.length}`;
    const detail = counts + skipReasons(result.skipped);
    // Named items none of which could be requeued: the request was refused, item by item.
    const refused = request.ids.length > 0 && result.requeued.length === 0 && result.skipped.length > 0;
    return { outcome: refused ? 'refused' : 'ok', detail, result };
  });
}

/** Most skipped ids named per reason in the audit's detail (the answer has them all). */
const MAX_IDS_PER_REASON = 20;

/** The skipped items grouped by reason, for the audit row: `; <reason>: 17, 18`. */
function skipReasons(skipped: RequeueResult['skipped']): string {
  const byReason = new Map<string, number[]>();
  for (const { id, reason } of skipped) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
  return [...byReason]
    .map(([reason, ids]) => {
      const shown = ids.slice(0, MAX_IDS_PER_REASON).join(', ');
      const more = ids.length > MAX_IDS_PER_REASON ? ` and ${ids.length - MAX_IDS_PER_REASON} more` : '';
      return `; ${reason}: ${shown}${more}`;
    })
    .join('');
}

export async function healAction(
  context: AdminContext,
  actor: string,
  request: { limit?: number },
): Promise<ActionResult<{ healed: number[] }>> {
  const limit = request.limit ?? context.settings.healBatch;
  return runAudited(context, { actor, action: 'heal', parameters: { limit } }, async () => {
    // An operator asking for a heal means now: the daemon's heal backoff is not waited for.
    const healed = await healFailedItems(context.db, { limit, ignoreSchedule: true });
    return { outcome: 'ok', detail: `re-queued ${healed.length} item(s)`, result: { healed } };
  });
}
