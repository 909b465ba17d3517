import type { Command } from 'commander';
import { adminSettingsOf } from '../admin/admin-context.js';
import { cleanupAction } from '../admin/cleanup-action.js';
import type { CleanupReport } from '../cleanup/run-cleanup.js';
import { countLiveItems } from '../db/cleanup-selections.js';
import { objectStoreFor } from '../storage/object-store-for.js';
import { cliActor } from './admin-command.js';
import { printJson, withDatabase } from './context.js';
import { progressReporter } from './progress.js';

interface CleanupFlags {
  expired?: boolean;
  orphans?: boolean;
  testData?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description(
      'retention: delete expired items and originals, test data, and orphans (metadata of deleted items is kept: /serve answers 410)',
    )
    .option('--expired', 'items past expires_at, and originals past ORIGINALS_RETENTION_DAYS')
    .option(
      '--orphans',
      'files no row points at (older than an hour), and completed items whose files vanished',
    )
    .option('--test-data', 'every item ingested as test data (never production data)')
    .option('--dry-run', 'report what would be removed; change nothing')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nWith no selection, --expired and --orphans are done.\n\nExamples:\n  $ media-worker cleanup --dry-run\n  $ media-worker cleanup --test-data --json',
    )
    .action(async (flags: CleanupFlags, command: Command) => {
      const none = !flags.expired && !flags.orphans && !flags.testData;
      await withDatabase(command, async ({ db, config, log }) => {
        const candidates = await countLiveItems(db);
        const progress = progressReporter('cleanup', candidates, flags.json === true);
        let seen = 0;
        const store = objectStoreFor(config);
        // cleanupAction checks the store first: wrong settings are exit 2 with the setting named, as for run; unreachable is exit 1.
        const context = { db, log, store, settings: adminSettingsOf(config) };
        const request = {
          expired: none || flags.expired === true,
          orphans: none || flags.orphans === true,
          testData: flags.testData === true,
          dryRun: flags.dryRun === true,
        };
        const { result: report } = await cleanupAction(context, cliActor(), request, {
          onProgress: (_label, done) => progress.update(Math.min(candidates, (seen = Math.max(seen, done)))),
        }).finally(() => store.close());
        progress.done();
        log.info({ dryRun: report.dryRun }, 'cleanup finished');
        if (flags.json) printJson(report);
        else console.log(renderReport(report));
      });
    });
}

function renderReport(report: CleanupReport): string {
  const verb = report.dryRun ? 'would remove' : 'removed';
  return [
    report.dryRun ? 'dry run: nothing was changed' : 'cleanup done',
    `expired items: ${verb} ${report.expiredItems.length}`,
    `test data items: ${verb} ${report.testDataItems.length}`,
    `expired originals: ${verb} ${report.expiredOriginals.length}`,
    `orphan files: ${verb} ${report.orphanFiles.length}`,
    `items whose files vanished: ${report.vanishedRequeued.length} re-queued from resize, ${report.vanishedMarkedFailed.length} marked failed (original gone too)`,
  ].join('\n');
}
