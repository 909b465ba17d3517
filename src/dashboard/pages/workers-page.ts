/**
 * GET /admin/workers: every worker whose heartbeat is younger than a day —
 * live, stopped, or gone silent without stopping (killed, its VM lost) —
 * with what each live one holds now. Refreshes itself, as the overview.
 */
import type { FastifyInstance } from 'fastify';
import { listRecentWorkers, listWorkerClaims } from '../../db/worker-list.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatCount } from '../format.js';
import { html } from '../html.js';
import { sendPage } from '../page-layout.js';
import { workerState, workerTable } from './worker-table.js';

const RECENT_MS = 24 * 3_600_000;

export function registerWorkersPages(app: FastifyInstance, context: DashboardContext): void {
  const { admin } = context;
  app.get('/admin/workers', async (request, reply) => {
    const now = Date.now();
    const leaseMs = admin.settings.leaseMs;
    const workers = await listRecentWorkers(admin.db, RECENT_MS, now);
    const claims = await listWorkerClaims(admin.db);
    const count = (state: string) => workers.filter((w) => workerState(w, now, leaseMs) === state).length;
    const body = html`<h1>Workers</h1>
      <div class="cards">
        <div class="card">
          <span class="figure" data-figure="workers.live">${formatCount(count('live'))}</span
          ><span class="label">live</span>
        </div>
        <div class="card">
          <span class="figure" data-figure="workers.silent">${formatCount(count('silent'))}</span
          ><span class="label">silent (no heartbeat for a lease)</span>
        </div>
        <div class="card">
          <span class="figure" data-figure="workers.stopped">${formatCount(count('stopped'))}</span
          ><span class="label">stopped</span>
        </div>
      </div>
      <h2>Seen in the last 24 hours</h2>
      ${workerTable(workers, claims, {
        now,
        leaseMs,
        caption: `Newest heartbeat first; live means a heartbeat within ${Math.round(leaseMs / 1000)} s`,
      })}`;
    return sendPage(request, reply, context.layout, {
      title: 'Workers',
      nav: '/admin/workers',
      body,
      refreshSeconds: 5,
    });
  });
}
