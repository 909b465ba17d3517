/**
 * GET /admin/items/:id: one item as GET /api/media/:id and `media-worker
 * show` see it (itemView, the function findItemView applies, over the same
 * read that gives the timeline and the facts), its analysis as
 * GET /api/media/analysis/:id gives it, and the actions that apply: each a
 * link to the bulk confirmation, narrowed to this id.
 */
import type { FastifyInstance } from 'fastify';
import { requeueAction } from '../../admin/queue-actions.js';
import { contractAnalysis } from '../../analysis/contract-body.js';
import type { DashboardSession } from '../../db/dashboard-sessions.js';
import { itemDetail } from '../../db/item-detail.js';
import { itemView, type ItemView } from '../../db/item-view.js';
import { findAnalysisRecord } from '../../db/media-outputs.js';
import type { ChecklistRecord, MediaRecord } from '../../db/records.js';
import type { DashboardContext } from '../dashboard-context.js';
import { html, type SafeHtml } from '../html.js';
import { runDashboardAction } from '../dashboard-action.js';
import { canAct, csrfField, sendBarePage, sendPage } from '../page-layout.js';
import { stepChoice } from './confirmation.js';
import { analysisSection, callbackSection, costSection } from './item-results.js';
import { factsSection, timelineSection, variantsSection } from './item-sections.js';

function failureBox(view: ItemView): SafeHtml {
  if (!view.failure) return html``;
  return html`<div class="failure" role="note">
    <strong class="problem">${view.failure.error_class ?? 'failed'}</strong>
    ${view.failure.step ? html` at step ${view.failure.step}` : ''}:
    <span class="message">${view.failure.message ?? 'no message'}</span>
  </div>`;
}

function itemActions(session: DashboardSession, media: MediaRecord, checklist: ChecklistRecord): SafeHtml {
  if (!canAct(session) || media.status === 'deleted') return html``;
  const id = html`<input type="hidden" name="id" value="${media.id}" />`;
  // This item, from its failed step (the API's requeue with failed: true): not a heal, which picks
  // the HEAL_BATCH oldest transient failures of the whole fleet.
  const retry =
    checklist.state === 'failed'
      ? html`<form method="post" action="/admin/items/${media.id}/requeue-failed" class="bulk-form">
          ${csrfField(session)}
          <button type="submit" class="secondary">
            Requeue this item from its failed
            step${checklist.failed_step ? ` (${checklist.failed_step})` : ''}
          </button>
        </form>`
      : '';
  const remove = media.is_test_data
    ? html`<form method="get" action="/admin/items/delete-test-data" class="bulk-form">
        ${id}<button type="submit" class="danger">Delete this test item…</button>
      </form>`
    : '';
  return html`<section aria-labelledby="actions-title">
    <h2 id="actions-title">Actions</h2>
    <div class="actions">
      <form method="get" action="/admin/items/requeue" class="bulk-form">
        ${id} ${stepChoice('item-step')}
        <button type="submit">Requeue…</button>
      </form>
      ${retry} ${remove}
    </div>
  </section>`;
}

export function registerItemPages(app: FastifyInstance, context: DashboardContext): void {
  // One item from its failed step: requeueAction with failedOnly, as POST /api/admin/requeue
  // {ids: [id], failed: true} runs it (an item that is not failed now is not requeued).
  app.post<{ Params: { id: string } }>('/admin/items/:id/requeue-failed', async (request, reply) => {
    const { id } = request.params;
    if (!/^[1-9]\d{0,14}$/.test(id))
      return sendBarePage(reply, 404, 'No such item', html`<p>There is no item ${id}.</p>`);
    return runDashboardAction(request, reply, context, `/admin/items/${id}`, (actor) =>
      requeueAction(context.admin, actor, { ids: [Number(id)], failedOnly: true }),
    );
  });
  app.get<{ Params: { id: string } }>('/admin/items/:id', async (request, reply) => {
    const { id } = request.params;
    const detail = /^[1-9]\d{0,14}$/.test(id) ? await itemDetail(context.admin.db, Number(id)) : undefined;
    if (!detail)
      return sendBarePage(
        reply,
        404,
        'No such item',
        html`<p>There is no item ${id}. <a href="/admin/items">All items</a></p>`,
      );
    const view = itemView(detail);
    const analysis = await findAnalysisRecord(context.admin.db, detail.media.id);
    const session = request.dashboardSession!;
    return sendPage(request, reply, context.layout, {
      title: `Item ${detail.media.id}`,
      nav: '/admin/items',
      body: html`<p><a href="/admin/items">← Items</a></p>
        <h1>Item ${detail.media.id} <span class="status-${view.status}">${view.status}</span></h1>
        ${failureBox(view)} ${itemActions(session, detail.media, detail.checklist)}
        ${factsSection(detail.media)} ${timelineSection(view, detail.checklist, detail.events)}
        ${variantsSection(view, detail.media.status)}
        ${analysisSection(analysis && contractAnalysis(analysis))}
        ${callbackSection(detail.media, detail.events)} ${costSection(view)}`,
    });
  });
}
