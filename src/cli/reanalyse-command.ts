/**
 * `reanalyse`: runs analysis again for chosen items, on purpose, without the
 * paid providers' cache (for the named provider, or all). It goes through
 * the real step machinery: the items are marked for a re-run
 * (analysis_reruns) and requeued from `analyse` like `requeue --step
 * analyse` (audited as a requeue); the worker that claims them analyses
 * afresh, re-renders and re-reports. Served items stay served meanwhile.
 */
import type { Command } from 'commander';
import { PROVIDER_NAMES, type ProviderName } from '../analysis/analysis-provider.js';
import { requeueAction } from '../admin/queue-actions.js';
import { clearRerun, requestReruns, selectIdsSince } from '../db/analysis-reruns.js';
import { UsageError } from '../errors.js';
import { parseDurationArgument, parseIdArgument } from './arguments.js';
import { cliActor, withAdmin } from './admin-command.js';
import { configFor, printJson } from './context.js';

interface ReanalyseOptions {
  provider?: string;
  ids?: string[];
  since?: string;
  json?: boolean;
}

function parseProvider(raw: string, configured: readonly ProviderName[]): ProviderName {
  const name = raw.trim().toLowerCase() as ProviderName;
  if (!PROVIDER_NAMES.includes(name))
    throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')} (got "${raw}")`);
  if (!configured.includes(name))
    throw new UsageError(
      `--provider ${name} is not in ANALYSIS_PROVIDERS (${configured.join(',')}): it would not run`,
    );
  return name;
}

export function registerReanalyseCommand(program: Command): void {
  program
    .command('reanalyse')
    .description('analyse items again, bypassing the paid providers’ cache (then re-render and re-report)')
    .option('--provider <name>', 'bypass the cache of this provider only (default: every provider)')
    .option('--ids <ids...>', 'media ids')
    .option('--since <duration>', 'every item created within this duration (e.g. 24h)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker reanalyse --provider openai --ids 17 18\n  $ media-worker reanalyse --since 24h --json',
    )
    .action(async (options: ReanalyseOptions, command: Command) => {
      const config = configFor(command);
      const provider =
        options.provider === undefined
          ? undefined
          : parseProvider(options.provider, config.analysisProviders);
      const ids = (options.ids ?? [])
        .flatMap((raw) => raw.split(','))
        .filter(Boolean)
        .map((raw) => parseIdArgument(raw));
      if (ids.length > 0 === (options.since !== undefined))
        throw new UsageError('reanalyse needs either --ids or --since');
      const since = options.since === undefined ? undefined : parseDurationArgument(options.since, '--since');
      await withAdmin(command, async (context) => {
        const selected = since === undefined ? ids : await selectIdsSince(context.db, Date.now() - since);
        const actor = cliActor();
        await requestReruns(context.db, selected, provider ? [provider] : [], actor);
        const { result } = await requeueAction(context, actor, {
          ids: selected,
          failedOnly: false,
          fromStep: 'analyse',
        });
        // An item not requeued keeps its analysis: its next analyse (a heal, say) is no re-run.
        for (const skip of result.skipped) await clearRerun(context.db, skip.id);
        if (options.json)
          printJson({ provider: provider ?? null, requeued: result.requeued, skipped: result.skipped });
        else {
          console.log(
            `reanalysing ${result.requeued.length} item(s)${provider ? ` (${provider} without its cache)` : ''}${result.requeued.length ? `: ${result.requeued.join(', ')}` : ''}`,
          );
          for (const skip of result.skipped) console.log(`skipped ${skip.id}: ${skip.reason}`);
        }
        if (result.skipped.length > 0 && result.requeued.length === 0) process.exitCode = 1;
      });
    });
}
