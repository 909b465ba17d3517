import type { Command } from 'commander';
import { retentionPolicy } from '../config.js';
import { migrateLatest } from '../db/migrate.js';
import { dataTypeOf } from '../media-roles.js';
import { expiresAtFor } from '../retention.js';
import { findFiles, ingestFiles } from '../intake/ingest-files.js';
import { parseCountArgument, parseRoleArgument } from './arguments.js';
import { printJson, withDatabase } from './context.js';
import { progressReporter } from './progress.js';

export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description('register local image files (or every file under a directory) for processing')
    .argument('<paths...>', 'files or directories')
    .option('--user <id>', 'user id that owns the images', '0')
    .option('--role <role>', 'profile | header | logo | site | product | event', 'product')
    .option('--test-data', 'mark as test data (cleanup --test-data removes it)')
    .option('--json', 'print the registered ids as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker ingest samples/\n  $ media-worker ingest logo.png --role logo --user 42',
    )
    .action(
      async (
        paths: string[],
        options: { user: string; role: string; testData?: boolean; json?: boolean },
        command: Command,
      ) => {
        const userId = parseCountArgument(options.user, '--user', 0);
        const role = parseRoleArgument(options.role);
        const files = await findFiles(paths);
        await withDatabase(command, async ({ db, config }) => {
          await migrateLatest(db);
          const progress = progressReporter('ingest', files.length, options.json === true);
          const isTestData = options.testData === true;
          const expiresAt = expiresAtFor(retentionPolicy(config), dataTypeOf(role), isTestData);
          const ids = await ingestFiles(db, files, { userId, role, isTestData, expiresAt }, progress.update);
          progress.done();
          if (options.json) printJson({ ids, files });
          else
            console.log(
              `registered ${ids.length} file(s) as ${role} for user ${userId}: ids ${summariseIds(ids)}`,
            );
        });
      },
    );
}

function summariseIds(ids: number[]): string {
  if (ids.length === 0) return 'none';
  return ids.length <= 10 ? ids.join(', ') : `${ids[0]}…${ids[ids.length - 1]}`;
}
