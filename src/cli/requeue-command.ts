import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { requeueAction } from '../admin/queue-actions.js';
import { parseDurationArgument, parseIdArgument, parseStepArgument } from './arguments.js';
import { cliActor, withAdmin } from './admin-command.js';
import { printJson } from './context.js';

interface RequeueOptions {
  step?: string;
  failed?: boolean;
  since?: string;
  json?: boolean;
  yes?: boolean;
}

/** Bulk selections need a yes: asked on a terminal, or given as --yes by scripts. */
async function confirm(count: number, yes: boolean): Promise<boolean> {
  if (yes || count === 0) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(
      `--failed selects ${count} item(s); add --yes to requeue them (there is no terminal to confirm on)`,
    );
  }
  const readline = await import('node:readline/promises');
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`requeue ${count} item(s)? [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

export function registerRequeueCommand(program: Command): void {
  program
    .command('requeue')
    .description('put items back to work from a step (that step and every later one start over)')
    .argument('[ids...]', 'media ids (or use --failed)')
    .option(
      '--step <step>',
      'retrieve | analyse | resize | callback (default: the failed or first unfinished step)',
    )
    .option('--failed', 'only failed items; with no ids, every failed item')
    .option('--since <duration>', 'with --failed: only items that failed within this duration (e.g. 1h)')
    .option('--yes', 'do not ask for confirmation of a --failed selection')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker requeue 17 18\n  $ media-worker requeue --failed --since 1h --step resize\n  $ media-worker requeue --failed --yes --json',
    )
    .action(async (rawIds: string[], options: RequeueOptions, command: Command) => {
      const ids = rawIds.map((raw) => parseIdArgument(raw));
      const fromStep = options.step === undefined ? undefined : parseStepArgument(options.step);
      const since = options.since === undefined ? undefined : parseDurationArgument(options.since, '--since');
      if (ids.length === 0 && !options.failed) throw new UsageError('requeue needs media ids, or --failed');
      if (since !== undefined && !options.failed) throw new UsageError('--since only applies with --failed');
      await withAdmin(command, async (context) => {
        const request = {
          ids,
          failedOnly: options.failed === true,
          ...(since !== undefined ? { failedWithinMs: since } : {}),
          ...(fromStep ? { fromStep } : {}),
        };
        const yes = options.yes === true;
        const ask = options.failed ? (count: number) => confirm(count, yes) : undefined;
        const { result } = await requeueAction(context, cliActor(), request, ask);
        if (!result.confirmed) {
          console.log('nothing requeued');
          return;
        }
        if (options.json) printJson({ requeued: result.requeued, skipped: result.skipped });
        else {
          console.log(
            `requeued ${result.requeued.length} item(s)${result.requeued.length ? `: ${result.requeued.join(', ')}` : ''}`,
          );
          for (const skip of result.skipped) console.log(`skipped ${skip.id}: ${skip.reason}`);
        }
        if (result.skipped.length > 0 && result.requeued.length === 0 && ids.length > 0) process.exitCode = 1;
      });
    });
}
