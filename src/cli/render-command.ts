/**
 * `render --size zoom [--since 7d] [--ids …]`: pre-renders an on-demand size
 * for items that lack it, through the same renderer /serve uses (the same
 * lease, so a render racing a visitor's request happens once; the same
 * fenced write). It runs in this process, not through the queue: it never
 * holds a claim, so it delays no upload's claim, but it does share the CPU
 * with a worker on the same machine (run it off-peak, or elsewhere).
 */
import type { Command } from 'commander';
import {
  countRenderCandidates,
  selectRenderCandidates,
  type RenderSelection,
} from '../db/render-candidates.js';
import { findServedItem } from '../db/served-item.js';
import { listStoredVariants } from '../db/servable-variants.js';
import { UsageError } from '../errors.js';
import { createImageRuntime } from '../images/image-runtime.js';
import { ON_DEMAND_CAPABLE, missingOnDemandVariants } from '../images/on-demand-sizes.js';
import type { OutputFormat, SizeName } from '../images/presets.js';
import type { Logger } from '../log.js';
import { configureSharp } from '../pipeline.js';
import { OnDemandRenderer } from '../serve/render-on-demand.js';
import { objectStoreFor } from '../storage/object-store-for.js';
import { parseDurationArgument, parseIdArgument } from './arguments.js';
import { printJson, withDatabase, type CommandContext } from './context.js';
import { progressReporter } from './progress.js';

interface RenderFlags {
  size?: string;
  ids?: string[];
  since?: string;
  json?: boolean;
}

interface RenderReport {
  size: SizeName;
  items: number;
  rendered: number;
  alreadyThere: number;
  unavailable: Array<{ id: number; reason: string }>;
}

function parseSize(raw: string | undefined): SizeName {
  if (raw === undefined) throw new UsageError(`render needs --size (one of ${ON_DEMAND_CAPABLE.join(', ')})`);
  if (!(ON_DEMAND_CAPABLE as readonly string[]).includes(raw))
    throw new UsageError(
      `--size must be one of ${ON_DEMAND_CAPABLE.join(', ')}: the sizes that can be made on demand (got "${raw}")`,
    );
  return raw as SizeName;
}

function parseSelection(flags: RenderFlags): RenderSelection {
  const ids = (flags.ids ?? [])
    .flatMap((raw) => raw.split(','))
    .filter(Boolean)
    .map((raw) => parseIdArgument(raw));
  return {
    ...(ids.length > 0 ? { ids } : {}),
    ...(flags.since !== undefined
      ? { since: Date.now() - parseDurationArgument(flags.since, '--since') }
      : {}),
  };
}

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('pre-render an on-demand size (ON_DEMAND_SIZES) for completed items that lack it')
    .option('--size <size>', `the size to render: ${ON_DEMAND_CAPABLE.join(' or ')}`)
    .option('--ids <ids...>', 'only these media ids')
    .option('--since <duration>', 'only items registered within this duration (e.g. 7d)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nWithout --ids or --since, every completed item whose original is kept.\n\nExamples:\n  $ media-worker render --size zoom --since 7d\n  $ media-worker render --size zoom --ids 17 18 --json',
    )
    .action(async (flags: RenderFlags, command: Command) => {
      const size = parseSize(flags.size);
      const selection = parseSelection(flags);
      await withDatabase(command, async (context) => {
        const report = await renderAll(context, size, selection, flags.json === true);
        if (flags.json) printJson(report);
        else printReport(report);
        if (report.unavailable.length > 0 && report.rendered + report.alreadyThere === 0)
          process.exitCode = 1;
      });
    });
}

async function renderAll(
  { db, config, log }: CommandContext,
  size: SizeName,
  selection: RenderSelection,
  quiet: boolean,
): Promise<RenderReport> {
  configureSharp(log);
  const store = objectStoreFor(config);
  const images = createImageRuntime(config.imageMemoryMb);
  const renderer = new OnDemandRenderer({
    db,
    store,
    images,
    maxInputPixels: config.maxInputPixels,
    concurrency: 1,
    holder: `${config.workerId}:render`,
    log,
  });
  const report: RenderReport = { size, items: 0, rendered: 0, alreadyThere: 0, unavailable: [] };
  const progress = progressReporter(`render ${size}`, await countRenderCandidates(db, selection), quiet);
  try {
    for (let afterId = 0; ;) {
      const ids = await selectRenderCandidates(db, selection, afterId, 200);
      if (ids.length === 0) break;
      afterId = ids[ids.length - 1]!;
      for (const id of ids) {
        await renderItem(renderer, { db, log }, id, size, report);
        progress.update(++report.items);
      }
      log.info({ size, items: report.items, rendered: report.rendered }, 'render: progress');
    }
  } finally {
    progress.done();
    await images.close();
    await store.close();
  }
  return report;
}

async function renderItem(
  renderer: OnDemandRenderer,
  { db, log }: { db: CommandContext['db']; log: Logger },
  id: number,
  size: SizeName,
  report: RenderReport,
): Promise<void> {
  const item = await findServedItem(db, id);
  if (!item) return;
  const planned = missingOnDemandVariants(item, await listStoredVariants(db, id)).filter(
    (v) => v.size === size,
  );
  for (const { format } of planned) {
    const result = await renderer.variantOf(item, size, format as OutputFormat);
    if (result.state === 'ready') {
      if (result.rendered) report.rendered++;
      else report.alreadyThere++;
    } else if (result.state === 'unavailable') {
      report.unavailable.push({ id, reason: result.reason });
      log.warn({ mediaId: id, size, reason: result.reason }, 'render: cannot be made');
      return;
    }
  }
}

function printReport(report: RenderReport): void {
  console.log(
    `render ${report.size}: ${report.items} item(s) looked at, ${report.rendered} variant(s) rendered, ` +
      `${report.alreadyThere} already there by the time they were reached, ${report.unavailable.length} unavailable`,
  );
  for (const { id, reason } of report.unavailable) console.log(`  ${id}: ${reason}`);
}
