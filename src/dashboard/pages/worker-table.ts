/**
 * The table of workers the overview (live ones) and the workers page (all
 * seen lately) show: who, where, since when, the heartbeat's age, the state,
 * and the items each holds now with the step each is at.
 */
import type { WorkerClaim } from '../../db/worker-list.js';
import type { WorkerRecord } from '../../db/workers.js';
import { formatCount, formatDuration, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';

export type WorkerState = 'live' | 'stopped' | 'silent';

/** Live: not stopped, and beating within a lease (the rule of stats' live workers). */
export function workerState(worker: WorkerRecord, now: number, leaseMs: number): WorkerState {
  if (worker.stopped_at !== null) return 'stopped';
  return worker.heartbeat_at >= now - leaseMs ? 'live' : 'silent';
}

const STATE_TEXT: Record<WorkerState, string> = {
  live: 'live',
  stopped: 'stopped',
  silent: 'silent (no heartbeat for a lease: gone?)',
};

/** Items shown per worker; the rest are counted. */
const SHOWN_CLAIMS = 5;

function doing(claims: readonly WorkerClaim[] | undefined): SafeHtml {
  if (!claims || claims.length === 0) return html`<span class="muted">idle</span>`;
  const shown = claims
    .slice(0, SHOWN_CLAIMS)
    .map(
      (claim) =>
        html`<li>
          <a href="/admin/items/${claim.mediaId}">item ${claim.mediaId}</a>${
            claim.step ? html` at ${claim.step}` : ' finishing'
          }
        </li>`,
    );
  const more = claims.length - SHOWN_CLAIMS;
  return html`<ul class="claims">
    ${shown}${more > 0 ? html`<li class="muted">and ${formatCount(more)} more</li>` : ''}
  </ul>`;
}

export interface WorkerTableOptions {
  now: number;
  leaseMs: number;
  caption: string;
}

export function workerTable(
  workers: readonly WorkerRecord[],
  claims: ReadonlyMap<string, readonly WorkerClaim[]>,
  { now, leaseMs, caption }: WorkerTableOptions,
): SafeHtml {
  const rows = workers.map((worker) => {
    const state = workerState(worker, now, leaseMs);
    return html`<tr data-worker="${worker.worker_id}">
      <td><code>${worker.worker_id}</code></td>
      <td>${worker.host}<span class="muted"> pid ${worker.pid}</span></td>
      <td>${worker.version}</td>
      <td class="num">${worker.concurrency}</td>
      <td>${formatTime(worker.started_at)}</td>
      <td>${formatDuration(now - worker.heartbeat_at)} ago</td>
      <td class="worker-${state}">
        ${STATE_TEXT[state]}${
          worker.stopped_at !== null
            ? html`<br /><span class="muted">${formatTime(worker.stopped_at)}</span>`
            : ''
        }
      </td>
      <td>
        ${state === 'stopped' ? html`<span class="muted">–</span>` : doing(claims.get(worker.worker_id))}
      </td>
    </tr>`;
  });
  return html`<div class="table-wrap">
    <table class="workers">
      <caption class="muted">
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">Worker</th>
          <th scope="col">Host</th>
          <th scope="col">Version</th>
          <th scope="col" class="num">Concurrency</th>
          <th scope="col">Started</th>
          <th scope="col">Heartbeat</th>
          <th scope="col">State</th>
          <th scope="col">Doing now</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length
            ? rows
            : html`<tr>
                <td colspan="8" class="muted">No workers.</td>
              </tr>`
        }
      </tbody>
    </table>
  </div>`;
}
