/** `media-worker delete-test-data`: test data only, as DELETE /api/admin/test-data deletes it. */
import type { Command } from 'commander';
import { deleteTestDataAction } from '../admin/delete-test-data.js';
import { parseCountArgument, parseDurationArgument, parseIdArgument } from './arguments.js';
import { cliActor, withAdmin } from './admin-command.js';
import { printJson } from './context.js';

interface DeleteOptions {
  userId?: string;
  olderThan?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerDeleteTestDataCommand(program: Command): void {
  program
    .command('delete-test-data')
    .description(
      'delete items ingested as test data and their files (metadata kept: /serve answers 410); production items are refused even when named',
    )
    .argument(
      '[ids...]',
      'only these media ids (each must be test data; a production id refuses the whole run)',
    )
    .option('--user-id <id>', "only this user's test data")
    .option('--older-than <duration>', 'only items created longer ago (e.g. 2d)')
    .option('--dry-run', 'report what would be deleted; change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nWith no ids and no filter, every test data item is deleted.\n\nExamples:\n  $ media-worker delete-test-data --dry-run\n  $ media-worker delete-test-data --user-id 7 --older-than 2d\n  $ media-worker delete-test-data 41 42 --json',
    )
    .action(async (rawIds: string[], options: DeleteOptions, command: Command) => {
      const ids = rawIds.map((raw) => parseIdArgument(raw));
      const userId =
        options.userId === undefined ? undefined : parseCountArgument(options.userId, '--user-id', 0);
      const olderThanMs =
        options.olderThan === undefined
          ? undefined
          : parseDurationArgument(options.olderThan, '--older-than');
      await withAdmin(command, async (context) => {
        const done = await deleteTestDataAction(context, cliActor(), {
          ...(ids.length > 0 ? { ids } : {}),
          ...(userId !== undefined ? { userId } : {}),
          ...(olderThanMs !== undefined ? { olderThanMs } : {}),
          dryRun: options.dryRun === true,
        });
        if (options.json) printJson(done.result);
        else console.log(done.detail);
        // Refused (a production or unknown id named): nothing was deleted, and scripts must notice.
        if (done.outcome === 'refused') process.exitCode = 1;
      });
    });
}
