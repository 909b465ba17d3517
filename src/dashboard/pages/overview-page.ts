/**
 * GET /admin: the overview. Its numbers are collectStats' — the function
 * `media-worker stats --json` prints — so the page and the CLI cannot
 * disagree; each figure carries its path in that JSON (data-figure) so a
 * test can compare them. The throughput chart, the workers' current items
 * and the last resume come from further read queries. Refreshes itself.
 */
import type { FastifyInstance } from 'fastify';
import { collectStats, type Stats } from '../../admin/stats-report.js';
import { listAudit } from '../../db/admin-audit.js';
import { STEP_NAMES, type StepName } from '../../db/step-columns.js';
import { queueBySteps, type StepQueue } from '../../db/step-queue.js';
import { throughputHistory, type ThroughputSlot } from '../../db/throughput-history.js';
import { listWorkerClaims, type WorkerClaim } from '../../db/worker-list.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { sendPage } from '../page-layout.js';
import { ERROR_CLASSES } from './item-filters.js';
import { pauseControls } from './pause-controls.js';
import { throughputChart } from './throughput-chart.js';
import { workerTable } from './worker-table.js';

const SLOT_MINUTES = 5;
const SLOTS = 12;
const STATUSES = ['pending', 'downloading', 'processing', 'completed', 'failed', 'deleted'];
const STEP_STATES = ['pending', 'completed', 'skipped', 'failed'];

function card(label: string, path: string, value: number | string, extra: SafeHtml | string = ''): SafeHtml {
  const shown = typeof value === 'number' ? formatCount(value) : value;
  return html`<div class="card">
    <span class="figure" data-figure="${path}">${shown}</span><span class="label">${label}</span>${extra}
  </div>`;
}

function statusCards({ queue }: Stats): SafeHtml {
  const statuses = [...new Set([...STATUSES, ...Object.keys(queue.byStatus)])];
  return html`<h2>Items by status</h2>
    <div class="cards">
      ${statuses.map((status) => card(status, `queue.byStatus.${status}`, queue.byStatus[status] ?? 0))}
    </div>
    <h2>Queue</h2>
    <div class="cards">
      ${card('due now', 'queue.dueNow', queue.dueNow)}
      ${card('waiting for a retry', 'queue.waitingForRetry', queue.waitingForRetry)}
      ${card('being processed', 'queue.leased', queue.leased)}
      ${card('oldest unfinished', 'queue.oldestPendingAgeMs', queue.oldestPendingAgeMs === null ? 'none' : formatDuration(queue.oldestPendingAgeMs))}
      ${card('failed for good', 'queue.gaveUp', queue.gaveUp)}
    </div>`;
}

function stepTable({ queue }: Stats, atStep: Record<StepName, StepQueue>): SafeHtml {
  const rows = STEP_NAMES.map(
    (step) =>
      html`<tr>
        <th scope="row">${step}</th>
        <td class="num" data-figure="atStep.${step}.inProgress">${formatCount(atStep[step].inProgress)}</td>
        <td class="num" data-figure="atStep.${step}.queued">${formatCount(atStep[step].queued)}</td>
        ${STEP_STATES.map(
          (state) =>
            html`<td class="num" data-figure="queue.bySteps.${step}.${state}">
              ${formatCount(queue.bySteps[step][state] ?? 0)}
            </td>`,
        )}
      </tr>`,
  );
  return html`<h2>Steps</h2>
    <p class="muted">
      In progress and queued: unfinished items at this step now. Then every item's state of the step.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col" class="num">in progress</th>
            <th scope="col" class="num">queued</th>
            ${STEP_STATES.map((state) => html`<th scope="col" class="num">${state}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>`;
}

/** The items page filters by the known classes only; a failure without a class is shown unlinked. */
function isErrorClass(name: string): boolean {
  return (ERROR_CLASSES as readonly string[]).includes(name);
}

function failureTable({ queue }: Stats): SafeHtml {
  const entries = Object.entries(queue.failuresByClass).sort((a, b) => b[1] - a[1]);
  const rows = entries.map(
    ([errorClass, n]) =>
      html`<tr>
        <th scope="row">
          ${
            isErrorClass(errorClass)
              ? html`<a href="/admin/items?status=failed&amp;error_class=${errorClass}">${errorClass}</a>`
              : errorClass
          }
        </th>
        <td class="num" data-figure="queue.failuresByClass.${errorClass}">${formatCount(n)}</td>
      </tr>`,
  );
  return html`<h2>Failures by class</h2>
    ${
      entries.length === 0
        ? html`<p class="muted">No failed items.</p>`
        : html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Error class</th>
                  <th scope="col" class="num">Items</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
          </div>`
    }
    <p><a href="/admin/failures">Failures grouped by message, with requeue</a></p>`;
}

function storageCards({ storage, disk }: Stats): SafeHtml {
  const { bulk, library } = storage.byArea;
  const diskCard = disk
    ? card(
        `disk used; alert at ${disk.alertPercent}%`,
        'disk.usedPercent',
        `${disk.usedPercent}%`,
        disk.alert
          ? html`<strong class="problem" data-figure="disk.alert">above the alert threshold</strong>`
          : '',
      )
    : html`<div class="card">
        <span class="figure">–</span><span class="label">disk: not readable</span>
      </div>`;
  return html`<h2>Storage</h2>
    <div class="cards">
      ${card(`originals, ${formatBytes(bulk.bytes)}`, 'storage.byArea.bulk.files', bulk.files)}
      ${card(`variants, ${formatBytes(library.bytes)}`, 'storage.byArea.library.files', library.files)}
      ${diskCard}
    </div>
    <p><a href="/admin/storage">Storage by data type and format, orphans and cleanup</a></p>`;
}

interface OverviewData {
  stats: Stats;
  slots: ThroughputSlot[];
  claims: Map<string, WorkerClaim[]>;
  atStep: Record<StepName, StepQueue>;
  now: number;
}

function overviewBody(data: OverviewData, leaseMs: number, pause: SafeHtml): SafeHtml {
  const { stats, slots, claims, atStep, now } = data;
  return html`<h1>Overview</h1>
    ${pause} ${statusCards(stats)} ${stepTable(stats, atStep)}
    <h2>Throughput</h2>
    ${throughputChart(slots, SLOT_MINUTES)} ${failureTable(stats)}
    <h2>
      Live workers: <span data-figure="queue.liveWorkers.length">${stats.queue.liveWorkers.length}</span>
    </h2>
    ${workerTable(stats.queue.liveWorkers, claims, { now, leaseMs, caption: 'Workers beating within a lease' })}
    <p><a href="/admin/workers">All workers, stopped ones too</a></p>
    ${storageCards(stats)}`;
}

export function registerOverviewPages(app: FastifyInstance, context: DashboardContext): void {
  const { admin } = context;
  app.get('/admin', async (request, reply) => {
    const now = Date.now();
    const stats = await collectStats(admin, undefined);
    const slots = await throughputHistory(admin.db, { slotMs: SLOT_MINUTES * 60_000, slots: SLOTS, now });
    const claims = await listWorkerClaims(admin.db);
    const atStep = await queueBySteps(admin.db);
    const lastResume = stats.pause.paused
      ? null
      : ((await listAudit(admin.db, { action: 'resume', limit: 1 })).entries[0] ?? null);
    const pause = pauseControls(stats.pause, lastResume, request.dashboardSession!);
    return sendPage(request, reply, context.layout, {
      title: 'Overview',
      nav: '/admin',
      body: overviewBody({ stats, slots, claims, atStep, now }, admin.settings.leaseMs, pause),
      refreshSeconds: 5,
    });
  });
}
