/** `media-worker audit`: the admin audit, newest first, as GET /api/admin/audit lists it. */
import type { Command } from 'commander';
import { listAudit } from '../db/admin-audit.js';
import { parseCountArgument } from './arguments.js';
import { formatTable, formatTime, printJson, withDatabase } from './context.js';

interface AuditOptions {
  actor?: string;
  action?: string;
  limit?: string;
  json?: boolean;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('admin actions (API and CLI), newest first: who, what, parameters, when, outcome')
    .option('--actor <name>', 'only this actor (a key name, or cli:<user>)')
    .option('--action <name>', 'only this action (requeue, heal, cleanup, delete-test-data, pause, resume)')
    .option('--limit <n>', 'most rows (default 50)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker audit\n  $ media-worker audit --actor alice --action pause --json',
    )
    .action(async (options: AuditOptions, command: Command) => {
      const limit = options.limit === undefined ? 50 : parseCountArgument(options.limit, '--limit');
      await withDatabase(
        command,
        async ({ db }) => {
          const { entries } = await listAudit(db, {
            ...(options.actor !== undefined ? { actor: options.actor } : {}),
            ...(options.action !== undefined ? { action: options.action } : {}),
            limit,
          });
          if (options.json) return printJson(entries);
          if (entries.length === 0) return console.log('no admin actions recorded');
          console.log(
            formatTable([
              ['id', 'at', 'actor', 'action', 'outcome', 'parameters', 'detail'],
              ...entries.map((e) => [
                e.id,
                formatTime(e.at),
                e.actor,
                e.action,
                e.outcome,
                JSON.stringify(e.parameters),
                e.detail ?? '',
              ]),
            ]),
          );
        },
        { readOnly: true },
      );
    });
}
