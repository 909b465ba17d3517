/** `media-worker pause` and `resume`: the fleet-wide pause, as POST /api/admin/pause|resume give it. */
import type { Command } from 'commander';
import { pauseAction, resumeAction } from '../admin/pause-actions.js';
import { UsageError } from '../errors.js';
import { cliActor } from './admin-command.js';
import { printJson, withDatabase } from './context.js';

const MAX_REASON = 500;

export function registerPauseCommands(program: Command): void {
  program
    .command('pause')
    .description(
      'stop every worker on every VM from claiming new items (within one poll interval); items in flight finish',
    )
    .option('--reason <text>', 'why, for stats, /readyz and the audit')
    .option('--json', 'print the pause state as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker pause --reason "database maintenance"\n  $ media-worker resume',
    )
    .action(async (options: { reason?: string; json?: boolean }, command: Command) => {
      if (options.reason !== undefined && options.reason.length > MAX_REASON)
        throw new UsageError(
          `--reason must be at most ${MAX_REASON} characters (got ${options.reason.length})`,
        );
      await withDatabase(command, async (context) => {
        const done = await pauseAction(
          context,
          cliActor(),
          options.reason === undefined ? {} : { reason: options.reason },
        );
        if (options.json) printJson(done);
        else console.log(done.detail);
      });
    });
  program
    .command('resume')
    .description('let the workers claim again after a pause (within one poll interval)')
    .option('--json', 'print the pause state as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withDatabase(command, async (context) => {
        const done = await resumeAction(context, cliActor());
        if (options.json) printJson(done);
        else console.log(done.detail);
      });
    });
}
