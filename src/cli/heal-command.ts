import type { Command } from 'commander';
import { healAction } from '../admin/queue-actions.js';
import { parseCountArgument } from './arguments.js';
import { cliActor, withAdmin } from './admin-command.js';
import { printJson } from './context.js';

export function registerHealCommand(program: Command): void {
  program
    .command('heal')
    .description('re-queue failed items whose last error was transient (permanent failures are left alone)')
    .option('--limit <n>', 'most items to re-queue (default HEAL_BATCH)')
    .option('--json', 'print the healed ids as JSON')
    .addHelpText('after', '\nExamples:\n  $ media-worker heal\n  $ media-worker heal --limit 50 --json')
    .action(async (options: { limit?: string; json?: boolean }, command: Command) => {
      const limit = options.limit === undefined ? undefined : parseCountArgument(options.limit, '--limit');
      await withAdmin(command, async (context) => {
        const { result } = await healAction(context, cliActor(), limit === undefined ? {} : { limit });
        const { healed } = result;
        if (options.json) printJson({ healed });
        else
          console.log(`re-queued ${healed.length} item(s)${healed.length ? `: ${healed.join(', ')}` : ''}`);
      });
    });
}
