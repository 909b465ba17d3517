import type { Command } from 'commander';
import { adminSettingsOf } from '../admin/admin-context.js';
import { collectStats, type Stats } from '../admin/stats-report.js';
import { STEP_NAMES } from '../db/step-columns.js';
import { objectStoreFor } from '../storage/object-store-for.js';
import { parseCountArgument } from './arguments.js';
import { formatAge, formatTable, formatTime, printJson, withDatabase } from './context.js';

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description(
      'queue counts by status and step, failures by class, oldest pending age, live workers, storage and disk',
    )
    .option('--json', 'print as JSON')
    .option('--store', 'also count what the store holds, by listing it (a bucket: 1,000 keys a request)')
    .option('--watch [seconds]', 'refresh the view every few seconds (default 2) until Ctrl-C')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker stats\n  $ media-worker stats --watch 5\n  $ media-worker stats --json | jq .storage.byArea',
    )
    .action(
      async (options: { json?: boolean; store?: boolean; watch?: boolean | string }, command: Command) => {
        const watchSeconds =
          options.watch === undefined
            ? undefined
            : options.watch === true
              ? 2
              : parseCountArgument(String(options.watch), '--watch');
        await withDatabase(
          command,
          async ({ db, config }) => {
            const settings = adminSettingsOf(config);
            // --store lists the store: only then is one opened.
            const collect = async (): Promise<Stats> => {
              if (!options.store) return collectStats({ db, settings }, undefined);
              const store = objectStoreFor(config);
              return collectStats({ db, settings }, store).finally(() => store.close());
            };
            if (watchSeconds === undefined) {
              const stats = await collect();
              if (options.json) printJson(stats);
              else console.log(renderStats(stats));
              return;
            }
            await watch(watchSeconds, async () =>
              options.json
                ? JSON.stringify(await collect())
                : `\x1b[2J\x1b[H${renderStats(await collect())}\n\n(every ${watchSeconds}s; Ctrl-C to stop)`,
            );
          },
          { readOnly: true },
        );
      },
    );
}

/** Redraws until SIGINT/SIGTERM, then returns normally (exit 0). */
async function watch(seconds: number, render: () => Promise<string>): Promise<void> {
  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopped) {
    console.log(await render());
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, seconds * 1000);
    });
  }
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function renderStorage({ storage, disk, store }: Stats): string[] {
  const rows = Object.entries(storage.byDataType).map(([dataType, u]) => [
    dataType,
    u.bulk.files,
    mb(u.bulk.bytes),
    u.library.files,
    mb(u.library.bytes),
  ]);
  const { bulk, library } = storage.byArea;
  return [
    'storage',
    formatTable([
      ['data type', 'originals', 'bytes', 'variants', 'bytes'],
      ...rows,
      ['total', bulk.files, mb(bulk.bytes), library.files, mb(library.bytes)],
    ]),
    `formats: ${
      Object.entries(storage.bytesByFormat)
        .map(([f, b]) => `${f} ${mb(b)}`)
        .join(', ') || 'none'
    }; saved vs JPEG: AVIF ${mb(storage.savedVsJpeg.avif)}, WebP ${mb(storage.savedVsJpeg.webp)}`,
    `identical uploads reused: ${storage.dedup.hits} (${mb(storage.dedup.bytesSaved)} not stored twice)`,
    disk
      ? `disk (${disk.directory}): ${disk.usedPercent}% used, ${mb(disk.freeBytes)} free${disk.alert ? `  ** above DISK_ALERT_PERCENT=${disk.alertPercent} **` : ''}`
      : 'disk: local directory not found',
    ...(store
      ? [
          `store ${store.location}: originals ${store.bulk.objects} objects, ${mb(store.bulk.bytes)}; variants ${store.library.objects} objects, ${mb(store.library.bytes)}`,
        ]
      : []),
  ];
}

function renderPause({ pause }: Stats): string {
  if (!pause.paused) return 'fleet: not paused';
  const reason = pause.reason ? `: ${pause.reason}` : '';
  return `fleet: PAUSED by ${pause.pausedBy ?? 'unknown'} since ${formatTime(pause.pausedAt)} (no new claims; media-worker resume)${reason}`;
}

function renderStats(stats: Stats): string {
  const { queue } = stats;
  const statuses = Object.entries(queue.byStatus).map(([status, n]) => [status, n]);
  const steps = STEP_NAMES.map((step) => [
    step,
    ...['pending', 'completed', 'skipped', 'failed'].map((s) => queue.bySteps[step][s] ?? 0),
  ]);
  const failures = Object.entries(queue.failuresByClass);
  const callbacks = Object.entries(queue.callbackResults);
  const workers = queue.liveWorkers.map((w) => [
    w.worker_id,
    w.host,
    w.pid,
    w.version,
    w.concurrency,
    formatTime(w.started_at),
    formatTime(w.heartbeat_at),
  ]);
  return [
    'items by status',
    formatTable([['status', 'items'], ...(statuses.length ? statuses : [['(none)', 0]])]),
    '',
    'steps',
    formatTable([['step', 'pending', 'completed', 'skipped', 'failed'], ...steps]),
    '',
    `queue: ${queue.dueNow} due now, ${queue.waitingForRetry} waiting for a retry, ${queue.leased} being processed; oldest unfinished: ${formatAge(queue.oldestPendingAgeMs)}`,
    `failures by class: ${failures.length ? failures.map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}; failed for good after healing: ${queue.gaveUp}`,
    `main API answers to completions: ${callbacks.length ? callbacks.map(([r, n]) => `${r} ${n}`).join(', ') : 'none yet'}`,
    renderPause(stats),
    '',
    `live workers: ${workers.length}`,
    ...(workers.length
      ? [
          formatTable([
            ['worker', 'host', 'pid', 'version', 'concurrency', 'started', 'heartbeat'],
            ...workers,
          ]),
        ]
      : []),
    '',
    ...renderStorage(stats),
  ].join('\n');
}
