/**
 * GET /admin/items: the items, filtered (item-filters.ts) and keyset-paged
 * by id as GET /api/media pages them (listMedia, the same cursor), with the
 * bulk actions on the filter (bulk-actions.ts), each behind a confirmation.
 */
import type { FastifyInstance } from 'fastify';
import { itemSummaries, type ItemSummary } from '../../db/item-summaries.js';
import { listMedia, type MediaListItem, type MediaListPage } from '../../db/media-list.js';
import type { DashboardSession } from '../../db/dashboard-sessions.js';
import { MAX_LIMIT, decodeCursor, encodeCursor } from '../../http/media-query.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { canAct, sendPage } from '../page-layout.js';
import { registerBulkActions } from './bulk-actions.js';
import { stepChoice } from './confirmation.js';
import {
  describeFilters,
  filterFields,
  filterForm,
  filterQuery,
  parseItemFilters,
  type FilterValues,
} from './item-filters.js';

const PAGE_SIZE = 50;

/** Rows per page: 50, or `limit` (1 to MAX_LIMIT, as GET /api/media takes it). */
function pageSizeOf(query: Record<string, unknown>): number {
  const raw = query.limit;
  if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw)) return PAGE_SIZE;
  const size = Number(raw);
  return size >= 1 && size <= MAX_LIMIT ? size : PAGE_SIZE;
}

function cursorOf(query: Record<string, unknown>, name: string): number | undefined {
  const raw = query[name];
  return typeof raw === 'string' ? decodeCursor(raw) : undefined;
}

function itemRow(item: MediaListItem, summary: ItemSummary | undefined): SafeHtml {
  const failure = summary?.errorClass
    ? html`<span class="problem">${summary.errorClass}</span
        >${summary.failedStep ? html` at ${summary.failedStep}` : ''}`
    : '';
  return html`<tr>
    <td class="num"><a href="/admin/items/${item.media_id}">${item.media_id}</a></td>
    <td class="name">${summary?.originalName ?? '–'}</td>
    <td><span class="status-${item.status}">${item.status}</span></td>
    <td>${failure}</td>
    <td>${item.role} / ${item.data_type}</td>
    <td class="num">${item.user_id}</td>
    <td>${item.is_test_data ? 'test' : ''}</td>
    <td class="num">${summary?.mainApiId ?? ''}</td>
    <td class="nowrap">${formatTime(item.created_at)}</td>
  </tr>`;
}

function itemTable(page: MediaListPage, summaries: Map<number, ItemSummary>): SafeHtml {
  if (page.items.length === 0) return html`<p class="muted">No items match.</p>`;
  return html`<div class="table-wrap">
    <table class="items">
      <caption class="muted">
        Items in id order
      </caption>
      <thead>
        <tr>
          <th class="num">id</th>
          <th>original name</th>
          <th>status</th>
          <th>error</th>
          <th>role / data type</th>
          <th class="num">user</th>
          <th>test</th>
          <th class="num">main API id</th>
          <th>created</th>
        </tr>
      </thead>
      <tbody>
        ${page.items.map((item) => itemRow(item, summaries.get(item.media_id)))}
      </tbody>
    </table>
  </div>`;
}

function pager(page: MediaListPage, values: FilterValues, paged: boolean, size: number): SafeHtml {
  const limit: Record<string, string> = size === PAGE_SIZE ? {} : { limit: String(size) };
  const first = page.items[0]?.media_id;
  // A page read backwards knows whether earlier ones exist; a forward page past the first has some.
  const hasPrevious = page.firstId !== undefined ? page.firstId !== null : paged;
  const previous =
    hasPrevious && first !== undefined
      ? html`<a
          rel="prev"
          href="/admin/items${filterQuery(values, { ...limit, before: encodeCursor(first) })}"
          >← Previous</a
        >`
      : '';
  const next =
    page.lastId !== null
      ? html`<a
          rel="next"
          href="/admin/items${filterQuery(values, { ...limit, after: encodeCursor(page.lastId) })}"
          >Next →</a
        >`
      : '';
  return html`<nav class="pager" aria-label="Pages">${previous} ${next}</nav>`;
}

function bulkActions(session: DashboardSession, values: FilterValues): SafeHtml {
  if (!canAct(session)) return html``;
  return html`<section aria-labelledby="bulk-title" class="bulk">
    <h2 id="bulk-title">Actions on this filter (${describeFilters(values)})</h2>
    <div class="actions">
      <form method="get" action="/admin/items/requeue" class="bulk-form">
        ${filterFields(values)} ${stepChoice('bulk-step')}
        <button type="submit">Requeue…</button>
      </form>
      <form method="get" action="/admin/items/heal" class="bulk-form">
        ${filterFields(values)}
        <button type="submit" class="secondary">Heal transient failures…</button>
      </form>
      <form method="get" action="/admin/items/delete-test-data" class="bulk-form">
        ${filterFields(values)}
        <button type="submit" class="danger">Delete test data…</button>
      </form>
    </div>
    <p class="hint">Each shows how many items it touches and asks before anything changes.</p>
  </section>`;
}

export function registerItemsPages(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Record<string, unknown> }>('/admin/items', async (request, reply) => {
    const parsed = parseItemFilters(request.query);
    const afterId = cursorOf(request.query, 'after');
    const beforeId = afterId === undefined ? cursorOf(request.query, 'before') : undefined;
    const size = pageSizeOf(request.query);
    const page = await listMedia(context.admin.db, {
      ...parsed.filters,
      limit: size,
      ...(afterId !== undefined ? { afterId } : {}),
      ...(beforeId !== undefined ? { beforeId } : {}),
    });
    const summaries = await itemSummaries(
      context.admin.db,
      page.items.map((item) => item.media_id),
    );
    const problems = parsed.problems.map((problem) => html`<p class="problem" role="alert">${problem}</p>`);
    return sendPage(request, reply, context.layout, {
      title: 'Items',
      nav: '/admin/items',
      body: html`<h1>Items</h1>
        ${filterForm(parsed.values)} ${problems}
        <p class="muted">Showing ${page.items.length} item(s) matching ${describeFilters(parsed.values)}.</p>
        ${itemTable(page, summaries)} ${pager(page, parsed.values, afterId !== undefined, size)}
        ${bulkActions(request.dashboardSession!, parsed.values)}`,
    });
  });
  registerBulkActions(app, context);
}
