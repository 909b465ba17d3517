/**
 * Deleting test data (media_files.is_test_data) on request, as
 * `media-worker delete-test-data` and DELETE /api/admin/test-data run it:
 * the items are deleted the way retention deletes them (cleanup/delete-item.ts:
 * rows first, metadata kept so /serve answers 410, then the files).
 * Production rows are never touched: a request that names one is refused
 * whole, and nothing is deleted.
 */
import { deleteItem } from '../cleanup/delete-item.js';
import { filesOf } from '../db/cleanup-selections.js';
import { describeItems, selectTestDataIds } from '../db/test-data-selection.js';
import type { AdminContext } from './admin-context.js';
import { runAudited, type ActionResult } from './audited.js';

export interface DeleteTestDataRequest {
  /** Only these items (each must be test data). */
  ids?: readonly number[];
  userId?: number;
  /** Only items created more than this many ms ago. */
  olderThanMs?: number;
  dryRun: boolean;
}

export interface DeleteTestDataResult {
  dryRun: boolean;
  /** Deleted (or, in a dry run, would be). */
  deleted: number[];
  /** Named ids that were already deleted: nothing to do. */
  alreadyDeleted: number[];
  /** Named ids that stopped the request: production data or no such item. */
  refused: Array<{ id: number; reason: string }>;
}

const BATCH = 500;

export async function deleteTestDataAction(
  context: AdminContext,
  actor: string,
  request: DeleteTestDataRequest,
): Promise<ActionResult<DeleteTestDataResult>> {
  const parameters = {
    ids: request.ids ?? null,
    user_id: request.userId ?? null,
    older_than_ms: request.olderThanMs ?? null,
    dry_run: request.dryRun,
  };
  return runAudited(context, { actor, action: 'delete-test-data', parameters }, async () => {
    const result: DeleteTestDataResult = {
      dryRun: request.dryRun,
      deleted: [],
      alreadyDeleted: [],
      refused: [],
    };
    if (request.ids) {
      const named = await describeItems(context.db, request.ids);
      result.refused = refusals(request.ids, named);
      result.alreadyDeleted = named.filter((item) => item.isTestData && item.deleted).map((item) => item.id);
      if (result.refused.length > 0) {
        const detail = `refused, nothing deleted: ${result.refused.map((r) => `${r.id} ${r.reason}`).join('; ')}`;
        return { outcome: 'refused', detail, result };
      }
    }
    result.deleted = await deleteSelected(context, actor, request);
    const verb = request.dryRun ? 'dry run, would delete' : 'deleted';
    return { outcome: 'ok', detail: `${verb} ${result.deleted.length} test data item(s)`, result };
  });
}

function refusals(
  ids: readonly number[],
  named: Awaited<ReturnType<typeof describeItems>>,
): DeleteTestDataResult['refused'] {
  const byId = new Map(named.map((item) => [item.id, item]));
  const refused: DeleteTestDataResult['refused'] = [];
  for (const id of new Set(ids)) {
    const item = byId.get(id);
    if (!item) refused.push({ id, reason: 'no such item' });
    else if (!item.isTestData) refused.push({ id, reason: 'is production data (is_test_data is false)' });
  }
  return refused;
}

async function deleteSelected(
  context: AdminContext,
  actor: string,
  request: DeleteTestDataRequest,
): Promise<number[]> {
  const done: number[] = [];
  const createdBefore = request.olderThanMs === undefined ? undefined : Date.now() - request.olderThanMs;
  for (let afterId = 0; ;) {
    const ids = await selectTestDataIds(context.db, {
      ...(request.ids ? { ids: request.ids } : {}),
      ...(request.userId !== undefined ? { userId: request.userId } : {}),
      ...(createdBefore !== undefined ? { createdBefore } : {}),
      afterId,
      limit: BATCH,
    });
    if (ids.length === 0) return done;
    afterId = ids[ids.length - 1]!;
    for (const files of await filesOf(context.db, ids)) {
      if (
        request.dryRun ||
        (await deleteItem(context.db, context.store, files, `test data deleted by ${actor}`))
      )
        done.push(files.id);
    }
  }
}
