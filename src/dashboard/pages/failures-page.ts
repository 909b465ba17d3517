/**
 * GET /admin/failures: failed items grouped by error class and message
 * (failure-groups.ts), each with its count and newest example, and
 * "requeue this group": a confirmation with the count, then requeueAction
 * on the group's failed ids (at most MAX_IDS per action, as /api/admin).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { recordRefusal } from '../../admin/audited.js';
import { requeueAction } from '../../admin/queue-actions.js';
import type { DashboardSession } from '../../db/dashboard-sessions.js';
import {
  countFailureGroup,
  failureGroupIds,
  listFailureGroups,
  type FailureGroup,
  type FailureGroupKey,
} from '../../db/failure-groups.js';
import { parseStepName } from '../../db/step-columns.js';
import { MAX_IDS } from '../../http/admin-route-parts.js';
import { runDashboardAction } from '../dashboard-action.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatCount, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { canAct, sendBarePage, sendPage } from '../page-layout.js';
import { confirmationPage, leftAlone, stepChoice } from './confirmation.js';
import { parseConfirmedIds, stillMatching } from './filtered-selection.js';
import { ERROR_CLASSES } from './item-filters.js';

const MAX_GROUPS = 100;
type Fields = Record<string, unknown>;

/** A group travels as JSON of [class, message]: either may be null, the message may hold anything. */
function groupOf(fields: Fields): FailureGroupKey | undefined {
  if (typeof fields.group !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(fields.group);
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [errorClass, message] = parsed as unknown[];
    const textOrNull = (v: unknown) => v === null || typeof v === 'string';
    if (!textOrNull(errorClass) || !textOrNull(message)) return undefined;
    return { errorClass: errorClass as string | null, message: message as string | null };
  } catch {
    return undefined;
  }
}

const groupField = (key: FailureGroupKey) => JSON.stringify([key.errorClass, key.message]);

function groupRow(group: FailureGroup, session: DashboardSession): SafeHtml {
  const requeue = canAct(session)
    ? html`<form method="get" action="/admin/failures/requeue" class="inline">
        <input type="hidden" name="group" value="${groupField(group)}" />
        <button type="submit" class="secondary">Requeue this group…</button>
      </form>`
    : '';
  // The groups count what the Items list calls failed (failure-groups.ts), so the class's link shows them;
  // the Items filter has no "no class", so a class-less group has no link.
  const items = group.errorClass
    ? `/admin/items?status=failed&error_class=${encodeURIComponent(group.errorClass)}`
    : undefined;
  return html`<tr>
    <td>${items ? html`<a href="${items}">${group.errorClass}</a>` : 'none'}</td>
    <td class="message">${group.message ?? '–'}</td>
    <td class="num">${formatCount(group.count)}</td>
    <td>
      <a href="/admin/items/${group.newestId}">${group.newestId}</a>
      <span class="name">${group.newestName ?? ''}</span>
      <span class="nowrap">${formatTime(group.newestAt)}</span>
    </td>
    <td>${requeue}</td>
  </tr>`;
}

function classFilter(current: string): SafeHtml {
  return html`<form method="get" action="/admin/failures" class="filters" aria-label="Filter failures">
    <div>
      <label for="failures-class">error class</label>
      <select id="failures-class" name="class">
        <option value="">any</option>
        ${ERROR_CLASSES.map(
          (name) => html`<option value="${name}" ${current === name ? html`selected` : ''}>${name}</option>`,
        )}
      </select>
    </div>
    <div><button type="submit">Filter</button></div>
  </form>`;
}

function groupTable(groups: readonly FailureGroup[], session: DashboardSession): SafeHtml {
  if (groups.length === 0) return html`<p class="muted">No failed items.</p>`;
  return html`<div class="table-wrap">
    <table class="failures">
      <thead>
        <tr>
          <th>class</th>
          <th>message</th>
          <th class="num">items</th>
          <th>newest</th>
          <th>action</th>
        </tr>
      </thead>
      <tbody>
        ${groups.map((group) => groupRow(group, session))}
      </tbody>
    </table>
  </div>`;
}

function registerFailuresList(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Fields }>('/admin/failures', async (request, reply) => {
    const raw = typeof request.query.class === 'string' ? request.query.class : '';
    const errorClass = (ERROR_CLASSES as readonly string[]).includes(raw) ? raw : '';
    const groups = await listFailureGroups(context.admin.db, {
      ...(errorClass ? { errorClass } : {}),
      limit: MAX_GROUPS,
    });
    return sendPage(request, reply, context.layout, {
      title: 'Failures',
      nav: '/admin/failures',
      body: html`<h1>Failures</h1>
        ${classFilter(errorClass)}
        <p class="muted">
          Failed items by error class and message, the largest group first. One requeue takes at most
          ${formatCount(MAX_IDS)} items of a group.
        </p>
        ${groupTable(groups, request.dashboardSession!)}`,
    });
  });
}

/** m3: a missing or malformed group is named and refused, never taken as the null/null group. */
function badGroup(reply: FastifyReply): FastifyReply {
  return sendBarePage(
    reply,
    400,
    'Bad request',
    html`<p class="problem">
        The field <code>group</code> is missing or malformed: it must be the JSON
        <code>[class, message]</code>
        of a failure group. Nothing was done.
      </p>
      <p><a href="/admin/failures">Failures</a></p>`,
  );
}

function registerGroupRequeue(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Fields }>('/admin/failures/requeue', async (request, reply) => {
    const key = groupOf(request.query);
    if (!key) return badGroup(reply);
    const count = await countFailureGroup(context.admin.db, key);
    const ids = await failureGroupIds(context.admin.db, key, MAX_IDS);
    return confirmationPage(request, reply, context, {
      title: 'Requeue a failure group',
      nav: '/admin/failures',
      action: '/admin/failures/requeue',
      question: html`<p>
          This will requeue <strong>${formatCount(ids.length)}</strong> failed item(s) of the group
          <strong>${key.errorClass ?? 'none'}</strong>: <span class="message">${key.message ?? '–'}</span>
        </p>
        ${
          count > MAX_IDS
            ? html`<p class="problem">
                The group has ${formatCount(count)} items: one action takes the first ${formatCount(MAX_IDS)}
                by id. Run it again for the rest.
              </p>`
            : ''
        }`,
      fields: html`<input type="hidden" name="group" value="${groupField(key)}" />
        <div>${stepChoice('group-step')}</div>`,
      expected: ids.length,
      ids,
      button: `Requeue ${formatCount(ids.length)} item(s)`,
      cancel: '/admin/failures',
    });
  });
  app.post<{ Body: Fields }>('/admin/failures/requeue', async (request, reply) => {
    const key = groupOf(request.body);
    if (!key) return badGroup(reply);
    const confirmed = parseConfirmedIds(request.body);
    const fromStep =
      typeof request.body.from_step === 'string' ? parseStepName(request.body.from_step) : undefined;
    const current = await failureGroupIds(context.admin.db, key, MAX_IDS);
    // Only the ids the confirmation showed that are still in the group: never one it did not show.
    const { ids, gone } = stillMatching(confirmed ?? [], current);
    return runDashboardAction(request, reply, context, '/admin/failures', async (actor) => {
      if (confirmed === undefined) {
        const detail = 'not confirmed: the form named no ids; nothing done';
        const parameters = { ids: [], failed: true, step: fromStep ?? null };
        await recordRefusal(context.admin, { actor, action: 'requeue', parameters }, detail);
        return { outcome: 'refused' as const, detail, result: null };
      }
      const done = await requeueAction(context.admin, actor, {
        ids,
        // failedOnly with no ids would mean every failed item: an emptied group names none instead.
        failedOnly: ids.length > 0,
        ...(fromStep ? { fromStep } : {}),
      });
      return { ...done, detail: done.detail + leftAlone(gone) };
    });
  });
}

export function registerFailuresPages(app: FastifyInstance, context: DashboardContext): void {
  registerFailuresList(app, context);
  registerGroupRequeue(app, context);
}
