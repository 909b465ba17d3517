import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { migrateLatest, migrateRollback, migrationStatus } from '../db/migrate.js';
import { printJson, withDatabase } from './context.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply (latest), revert the last batch of (rollback), or list (status) database migrations')
    .argument('[action]', 'latest | rollback | status', 'latest')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  $ media-worker migrate\n  $ media-worker migrate status --json')
    .action(async (action: string, options: { json?: boolean }, command: Command) => {
      if (!['latest', 'rollback', 'status'].includes(action)) {
        throw new UsageError(`migrate action must be latest, rollback or status (got "${action}")`);
      }
      await withDatabase(
        command,
        async ({ db }) => {
          if (action === 'status') {
            const status = await migrationStatus(db);
            if (options.json) printJson(status);
            else
              console.log(
                `applied: ${status.applied.join(', ') || 'none'}\npending: ${status.pending.join(', ') || 'none'}`,
              );
            return;
          }
          const names = action === 'latest' ? await migrateLatest(db) : await migrateRollback(db);
          if (options.json) printJson({ action, migrations: names });
          else
            console.log(names.length === 0 ? `${action}: nothing to do` : `${action}: ${names.join(', ')}`);
        },
        // `migrate` (latest) is systemd's ExecStartPre: it waits out an outage; status and rollback are asked by people.
        { waitForever: action === 'latest' },
      );
    });
}
