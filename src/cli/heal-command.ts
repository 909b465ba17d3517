import type { Command } from 'commander';
import { healFailedItems } from '../db/heal-items.js';
import { parseCountArgument } from './arguments.js';
import { printJson, withDatabase } from './context.js';

export function registerHealCommand(program: Command): void {
  program
    .command('heal')
    .description('re-queue failed items whose last error was transient (permanent failures are left alone)')
    .option('--limit <n>', 'most items to re-queue (default HEAL_BATCH)')
    .option('--json', 'print the healed ids as JSON')
    .addHelpText('after', '\nExamples:\n  $ media-worker heal\n  $ media-worker heal --limit 50 --json')
    .action(async (options: { limit?: string; json?: boolean }, command: Command) => {
      const limit = options.limit === undefined ? undefined : parseCountArgument(options.limit, '--limit');
      await withDatabase(command, async ({ db, config }) => {
        // An operator asking for a heal means now: the daemon's heal backoff is not waited for.
        const healed = await healFailedItems(db, { limit: limit ?? config.healBatch, ignoreSchedule: true });
        if (options.json) printJson({ healed });
        else
          console.log(`re-queued ${healed.length} item(s)${healed.length ? `: ${healed.join(', ')}` : ''}`);
      });
    });
}
