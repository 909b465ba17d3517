/**
 * The overview's fleet state: paused (by whom, since when, why) with the
 * resume button, or running (and who resumed it last) with the pause form.
 * The forms post to /admin/pause and /admin/resume (dashboard-routes.ts),
 * which run the same audited pause and resume as the CLI. A read-only
 * session sees the state and no form.
 */
import type { AuditRecord } from '../../db/admin-audit.js';
import type { DashboardSession } from '../../db/dashboard-sessions.js';
import type { PauseState } from '../../db/fleet-pause.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { canAct, csrfField } from '../page-layout.js';

function pauseForm(session: DashboardSession): SafeHtml {
  return html`<form method="post" action="/admin/pause" class="pause-form">
    ${csrfField(session)}
    <div>
      <label for="pause-reason">Reason (optional, shown to everyone)</label>
      <input type="text" id="pause-reason" name="reason" maxlength="500" autocomplete="off" />
    </div>
    <button type="submit" class="danger">Pause claiming</button>
  </form>`;
}

function resumeForm(session: DashboardSession): SafeHtml {
  return html`<form method="post" action="/admin/resume" class="inline">
    ${csrfField(session)}<button type="submit">Resume</button>
  </form>`;
}

export function pauseControls(
  pause: PauseState,
  lastResume: AuditRecord | null,
  session: DashboardSession,
): SafeHtml {
  if (pause.paused)
    return html`<section class="fleet-state paused" aria-labelledby="fleet-state">
      <h2 id="fleet-state">Fleet: <span data-figure="pause.paused">paused</span></h2>
      <p>
        Paused by <strong>${pause.pausedBy ?? 'unknown'}</strong> since
        ${formatTime(pause.pausedAt)}${pause.reason ? html`: <q>${pause.reason}</q>` : ''}. Items already
        claimed finish; no worker claims new ones.
      </p>
      ${canAct(session) ? resumeForm(session) : ''}
    </section>`;
  const resumed = lastResume
    ? html` Last resumed by <strong>${lastResume.actor}</strong> at ${formatTime(lastResume.at)}.`
    : '';
  return html`<section class="fleet-state running" aria-labelledby="fleet-state">
    <h2 id="fleet-state">Fleet: <span data-figure="pause.paused">running</span></h2>
    <p>Workers claim new items.${resumed}</p>
    ${canAct(session) ? pauseForm(session) : ''}
  </section>`;
}
