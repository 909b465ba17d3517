import type { Command } from 'commander';
import { queueStats, type QueueStats } from '../db/queue-stats.js';
import { STEP_NAMES } from '../db/steps.js';
import { formatAge, formatTable, formatTime, printJson, withDatabase } from './context.js';

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('queue counts by status and step, failures by error class, oldest pending age, live workers')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  $ media-worker stats\n  $ media-worker stats --json | jq .byStatus')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withDatabase(command, async ({ db, config }) => {
        // A worker beats every third of a lease: one missing lease's worth means it is gone.
        const stats = await queueStats(db, config.leaseMs);
        if (options.json) printJson(stats);
        else console.log(renderStats(stats));
      });
    });
}

function renderStats(stats: QueueStats): string {
  const statuses = Object.entries(stats.byStatus).map(([status, n]) => [status, n]);
  const steps = STEP_NAMES.map((step) => [
    step,
    ...['pending', 'completed', 'skipped', 'failed'].map((s) => stats.bySteps[step][s] ?? 0),
  ]);
  const failures = Object.entries(stats.failuresByClass);
  const workers = stats.liveWorkers.map((w) => [
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
    `queue: ${stats.dueNow} due now, ${stats.waitingForRetry} waiting for a retry, ${stats.leased} being processed; oldest unfinished: ${formatAge(stats.oldestPendingAgeMs)}`,
    `failures by class: ${failures.length ? failures.map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`,
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
  ].join('\n');
}
