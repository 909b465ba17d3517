/**
 * GET /admin/audit: who did what (listAudit, as `media-worker audit` and
 * GET /api/admin/audit read it), newest first, filtered by actor and
 * action, with keyset pagination: "Older" carries the page's last id, so a
 * page stays the same while new rows arrive. Parameters are shown as their
 * JSON text; like every string, escaped.
 */
import type { FastifyInstance } from 'fastify';
import { listAudit, type AuditFilters, type AuditRecord } from '../../db/admin-audit.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { sendPage } from '../page-layout.js';

const PAGE_SIZE = 50;
const KNOWN_ACTIONS = ['pause', 'resume', 'cleanup', 'requeue', 'heal', 'delete-test-data'];

type AuditQuery = { actor?: string; action?: string; before?: string };

/** Filters from the query: blanks are no filter, a `before` that is not an id is ignored. */
function filtersOf(query: AuditQuery): AuditFilters {
  const text = (value: string | undefined) => {
    const trimmed = typeof value === 'string' ? value.trim().slice(0, 200) : '';
    return trimmed === '' ? undefined : trimmed;
  };
  const actor = text(query.actor);
  const action = text(query.action);
  const before =
    typeof query.before === 'string' && /^\d{1,15}$/.test(query.before) ? Number(query.before) : undefined;
  return {
    limit: PAGE_SIZE,
    ...(actor !== undefined ? { actor } : {}),
    ...(action !== undefined ? { action } : {}),
    ...(before !== undefined ? { beforeId: before } : {}),
  };
}

function filterForm(filters: AuditFilters): SafeHtml {
  return html`<form method="get" action="/admin/audit" class="filters">
    <div>
      <label for="audit-actor">Actor (key name)</label>
      <input type="text" id="audit-actor" name="actor" value="${filters.actor ?? ''}" />
    </div>
    <div>
      <label for="audit-action">Action</label>
      <input
        type="text"
        id="audit-action"
        name="action"
        list="audit-actions"
        value="${filters.action ?? ''}"
      />
      <datalist id="audit-actions">
        ${KNOWN_ACTIONS.map((action) => html`<option value="${action}"></option>`)}
      </datalist>
    </div>
    <div class="actions">
      <button type="submit">Filter</button>
      <a class="button secondary" href="/admin/audit">Clear</a>
    </div>
  </form>`;
}

function auditRow(entry: AuditRecord): SafeHtml {
  return html`<tr data-audit-id="${entry.id}">
    <td class="num">${entry.id}</td>
    <td>${formatTime(entry.at)}</td>
    <td>${entry.actor}</td>
    <td>${entry.action}</td>
    <td class="outcome-${entry.outcome}">${entry.outcome}</td>
    <td><code>${JSON.stringify(entry.parameters)}</code></td>
    <td>${entry.detail ?? ''}</td>
  </tr>`;
}

function pageLink(filters: AuditFilters, beforeId?: number): string {
  const query = new URLSearchParams();
  if (filters.actor !== undefined) query.set('actor', filters.actor);
  if (filters.action !== undefined) query.set('action', filters.action);
  if (beforeId !== undefined) query.set('before', String(beforeId));
  const text = query.toString();
  return text ? `/admin/audit?${text}` : '/admin/audit';
}

function auditTable(entries: readonly AuditRecord[]): SafeHtml {
  if (entries.length === 0) return html`<p class="muted">No audit rows match.</p>`;
  return html`<div class="table-wrap">
    <table class="audit">
      <thead>
        <tr>
          <th scope="col" class="num">Id</th>
          <th scope="col">At</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Outcome</th>
          <th scope="col">Parameters</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(auditRow)}
      </tbody>
    </table>
  </div>`;
}

export function registerAuditPages(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: AuditQuery }>('/admin/audit', async (request, reply) => {
    const filters = filtersOf(request.query);
    const page = await listAudit(context.admin.db, filters);
    const pager = html`<nav class="pager" aria-label="Audit pages">
      ${filters.beforeId !== undefined ? html`<a href="${pageLink(filters)}">Newest</a>` : ''}
      ${page.lastId !== null ? html`<a href="${pageLink(filters, page.lastId)}" rel="next">Older →</a>` : ''}
    </nav>`;
    const body = html`<h1>Audit</h1>
      <p class="muted">Every admin action, from the dashboard, the API and the CLI: newest first.</p>
      ${filterForm(filters)} ${auditTable(page.entries)} ${pager}`;
    return sendPage(request, reply, context.layout, { title: 'Audit', nav: '/admin/audit', body });
  });
}
