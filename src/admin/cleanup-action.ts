/**
 * Retention and orphan cleanup, as `media-worker cleanup` (and its daily
 * timer) and POST /api/admin/cleanup run it: the start-up storage check,
 * then runCleanup, audited, with a summary of counts (the full report goes
 * to the caller only). The check comes first so that a store that is
 * unreachable or not the configured one (a wrong, empty directory) is not
 * taken for one whose files vanished: nothing is re-queued or marked failed.
 */
import { runCleanup, type CleanupReport } from '../cleanup/run-cleanup.js';
import { checkStorageAtStart } from '../storage/storage-at-start.js';
import type { AdminContext } from './admin-context.js';
import { runAudited, type ActionResult } from './audited.js';

export interface CleanupRequest {
  expired: boolean;
  orphans: boolean;
  /** Only the CLI's `cleanup --test-data`; the API has DELETE /api/admin/test-data for that. */
  testData: boolean;
  dryRun: boolean;
}

export interface CleanupHooks {
  onProgress?: (label: string, done: number) => void;
}

export async function cleanupAction(
  context: AdminContext,
  actor: string,
  request: CleanupRequest,
  hooks: CleanupHooks = {},
): Promise<ActionResult<CleanupReport>> {
  const parameters = {
    expired: request.expired,
    orphans: request.orphans,
    test_data: request.testData,
    dry_run: request.dryRun,
  };
  return runAudited(context, { actor, action: 'cleanup', parameters }, async () => {
    await checkStore(context);
    const report = await runCleanup(context.db, context.store, {
      ...request,
      originalsDays: context.settings.originalsRetentionDays,
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
    });
    return { outcome: 'ok', detail: summarise(report), result: report };
  });
}

/**
 * Inside the audit, so a run it stops is recorded as failed. Throws a
 * TransientError when a bucket does not answer (try again later), a
 * UsageError when the settings are wrong (checkStorageAtStart's rule).
 */
async function checkStore(context: AdminContext): Promise<void> {
  const unreachable = await checkStorageAtStart(context.store, context.settings.storage);
  if (unreachable) throw unreachable;
}

export function summarise(report: CleanupReport): string {
  const verb = report.dryRun ? 'dry run, would remove' : 'removed';
  return [
    `${verb}: ${report.expiredItems.length} expired item(s)`,
    `${report.testDataItems.length} test data item(s)`,
    `${report.expiredOriginals.length} expired original(s)`,
    `${report.orphanFiles.length} orphan file(s)`,
    `vanished files: ${report.vanishedRequeued.length} re-queued, ${report.vanishedMarkedFailed.length} failed`,
  ].join(', ');
}
