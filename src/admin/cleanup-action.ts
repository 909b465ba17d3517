/**
 * Retention and orphan cleanup, as `media-worker cleanup` (and its daily
 * timer) and POST /api/admin/cleanup run it: runCleanup, audited, with a
 * summary of counts (the full report goes to the caller only).
 */
import { runCleanup, type CleanupReport } from '../cleanup/run-cleanup.js';
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
  /** Runs first, inside the audit: the CLI's storage check, so a run it stops is recorded as failed. */
  before?: () => Promise<void>;
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
    await hooks.before?.();
    const report = await runCleanup(context.db, context.store, {
      ...request,
      originalsDays: context.settings.originalsRetentionDays,
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
    });
    return { outcome: 'ok', detail: summarise(report), result: report };
  });
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
