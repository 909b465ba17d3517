import type { Command } from 'commander';
import { itemDetail, type ItemDetail } from '../db/item-detail.js';
import { itemView } from '../db/item-view.js';
import type { ItemCost, StepCost } from '../db/step-cost.js';
import type { CallbackResult } from '../db/records.js';
import { parseIdArgument } from './arguments.js';
import { formatTable, formatTime, printJson, withDatabase } from './context.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('one item: its file facts, checklist, timeline of attempts and errors, and variants')
    .argument('<id>', 'media id')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker show 42\n  $ media-worker show 42 --json | jq .steps',
    )
    .action(async (rawId: string, options: { json?: boolean }, command: Command) => {
      const id = parseIdArgument(rawId);
      await withDatabase(
        command,
        async ({ db }) => {
          const detail = await itemDetail(db, id);
          if (!detail) {
            console.error(`media-worker: no item with id ${id}`);
            process.exitCode = 1;
            return;
          }
          // `api` is exactly what GET /api/media/:id answers for the item (the same function builds both).
          if (options.json) printJson({ ...detail, api: itemView(detail) });
          else console.log(renderDetail(detail));
        },
        { readOnly: true },
      );
    });
}

const CALLBACK_RESULT_TEXT: Record<CallbackResult, string> = {
  accepted: 'accepted',
  accepted_minimal: 'accepted the minimal body (the full one was refused with 400/422)',
  already_processed: 'already processed (409)',
  upload_unknown: 'the main API no longer knows this upload (404/410); the media is kept and served',
};

const seconds = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : value.toFixed(3);

/** Cost cells: wall s, CPU s, bytes read, bytes written ('-' for a step that never ran). */
function costCells(cost: ItemCost | StepCost | null): Array<string | number> {
  if (!cost) return ['-', '-', '-', '-'];
  return [seconds(cost.wall_seconds), seconds(cost.cpu_seconds), cost.bytes_read, cost.bytes_written];
}

/** One call: provider, outcome, duration, and what it cost or saved when the provider is paid. */
const providerCalls = (cost: StepCost | null) =>
  (cost?.provider_calls ?? [])
    .map((c) => {
      const paid = c.cache_hit
        ? ` cache hit (saved ${c.saved_cost ?? '?'})`
        : c.cost !== undefined
          ? ` cost ${c.cost ?? '?'}`
          : '';
      return `${c.provider} ${c.outcome} ${c.duration_ms}ms${paid}`;
    })
    .join(', ');

/** The paid providers' total for the item, when one was involved (the money is in the prices' unit). */
function providerCostLine(cost: ItemCost | null): string | undefined {
  if (!cost || cost.provider_cost === undefined) return undefined;
  return `provider cost: ${cost.provider_cost ?? 'unpriced'} (saved by the cache: ${cost.provider_cost_saved ?? 0})`;
}

function renderDetail(detail: ItemDetail): string {
  const { media, checklist, steps, events, variants } = detail;
  const view = itemView(detail);
  const facts = [
    `item ${media.id}: ${media.status} (${media.source}${media.main_api_id ? ` #${media.main_api_id}` : ''}, role ${media.role}, user ${media.user_id})`,
    `source: ${media.source_path}`,
    `file: ${media.mime_type ?? '?'} ${media.width ?? '?'}×${media.height ?? '?'} ${media.file_size ?? '?'} bytes sha256 ${media.sha256 ?? '?'}`,
    `original: ${media.bulk_path ?? '-'}`,
  ];
  if (checklist.worker_id)
    facts.push(`held by ${checklist.worker_id} until ${formatTime(checklist.lease_expires_at)}`);
  if (checklist.last_error)
    facts.push(`last error (${checklist.last_error_class ?? '?'}): ${checklist.last_error}`);
  if (checklist.gave_up_at)
    facts.push(`failed for good at ${formatTime(checklist.gave_up_at)}: its heal budget was spent`);
  if (media.callback_result)
    facts.push(`main API answer to the completion: ${CALLBACK_RESULT_TEXT[media.callback_result]}`);
  if (media.callback_resends > 0) facts.push(`lost callback re-sent ${media.callback_resends} time(s)`);
  const paid = providerCostLine(view.cost);
  if (paid) facts.push(paid);
  const stepTable = formatTable([
    ['step', 'state', 'attempts', 'wall s', 'cpu s', 'read', 'written', 'provider calls'],
    ...steps.map((s) => {
      const cost = view.steps.find((v) => v.name === s.step)?.cost ?? null;
      return [s.step, s.status, s.attempts, ...costCells(cost), providerCalls(cost)];
    }),
    ['all', '', '', ...costCells(view.cost)],
  ]);
  const timeline = formatTable([
    ['when', 'step', 'event', 'attempt', 'worker', 'detail'],
    ...events.map((e) => [
      formatTime(e.at),
      e.step ?? '',
      e.event,
      e.attempt ?? '',
      e.worker_id ?? '',
      [e.error_class, e.message].filter(Boolean).join(': '),
    ]),
  ]);
  const files = variants.length
    ? formatTable([
        ['size', 'format', 'bg', 'pixels', 'bytes', 'path'],
        ...variants.map((v) => [v.size, v.format, v.bg, `${v.width}×${v.height}`, v.bytes, v.path]),
      ])
    : 'no variants';
  return [...facts, '', stepTable, '', timeline, '', files].join('\n');
}
