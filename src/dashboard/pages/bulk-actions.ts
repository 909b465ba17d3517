/**
 * The Items page's bulk actions on its filter: requeue from a step, heal,
 * delete test data. Each is a GET confirmation page ("this will requeue N
 * items matching …") whose form posts the filter and the exact ids it
 * showed (one comma-separated field, at most MAX_IDS); the POST acts only on
 * those ids that still match the filter (the flash says how many no longer
 * did and were left alone), through the same audited function the CLI and
 * /api/admin run. A requeue with no step chosen that would include served
 * items is refused: from retrieve they would stop being served (and fail
 * GONE for good if the main API's upload is gone), so the form asks for a
 * step and says what stops being served and what is downloaded again.
 * Heal is heal (HEAL_BATCH oldest transient failures, no filter), its limit
 * the confirmed count capped at HEAL_BATCH.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recordRefusal, type ActionResult } from '../../admin/audited.js';
import { deleteTestDataAction } from '../../admin/delete-test-data.js';
import { healAction, requeueAction } from '../../admin/queue-actions.js';
import { countHealable } from '../../db/failure-groups.js';
import { servingFacts, type ServingFacts } from '../../db/requeue-preview.js';
import { parseStepName, type StepName } from '../../db/step-columns.js';
import { MAX_IDS } from '../../http/admin-route-parts.js';
import { actorOfSession, runDashboardAction } from '../dashboard-action.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatCount } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { confirmationPage, leftAlone, parseExpected, requiredStepChoice } from './confirmation.js';
import { parseConfirmedIds, selectFiltered, stillMatching } from './filtered-selection.js';
import {
  describeFilters,
  filterFields,
  filterQuery,
  parseItemFilters,
  type ParsedFilters,
} from './item-filters.js';

type Fields = Record<string, unknown>;

/** Where an action on the filter goes back to: the item when it named one, else the filtered list. */
function backTo(parsed: ParsedFilters): string {
  if (parsed.values.id !== '') return `/admin/items/${parsed.values.id}`;
  return `/admin/items${filterQuery(parsed.values)}`;
}

function fromStepOf(fields: Fields) {
  return typeof fields.from_step === 'string' ? parseStepName(fields.from_step) : undefined;
}

const tooMany = (more: boolean) =>
  more
    ? html`<p class="problem">
        More than ${formatCount(MAX_IDS)} items match: one action takes the first ${formatCount(MAX_IDS)} by
        id. Run it again for the rest.
      </p>`
    : '';

/** What the requeue will do to serving and downloading, in words (M1: a served item must not go offline unasked). */
function servingSentence(step: StepName | undefined, count: number, facts: ServingFacts): SafeHtml {
  const served = facts.served.length;
  if (step === undefined && served > 0)
    return html`<p class="problem">
      <strong>${formatCount(served)}</strong> of these item(s) are served now: choose the step. From
      <code>retrieve</code> those ${formatCount(served)} stop being served while they are re-processed and all
      ${formatCount(count)} are downloaded again from the main API (if its upload is gone, they fail GONE);
      from <code>analyse</code>, <code>resize</code> or <code>callback</code> they keep being served and
      nothing is downloaded.
    </p>`;
  const stop = step === 'retrieve' ? served : 0;
  const download = step === undefined ? facts.defaultRetrieve.length : step === 'retrieve' ? count : 0;
  return html`<p>
    <strong data-figure="stop-serving">${formatCount(stop)}</strong> item(s) will stop being served while they
    are re-processed; <strong data-figure="re-download">${formatCount(download)}</strong> will be downloaded
    again from the main API.
  </p>`;
}

function registerRequeue(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Fields }>('/admin/items/requeue', async (request, reply) => {
    const parsed = parseItemFilters(request.query);
    const step = fromStepOf(request.query);
    const { ids, more } = await selectFiltered(context.admin.db, parsed.filters);
    const facts = await servingFacts(context.admin.db, ids);
    const mustChoose = step === undefined && facts.served.length > 0;
    return confirmationPage(request, reply, context, {
      title: 'Requeue items',
      action: '/admin/items/requeue',
      question: html`<p>
          This will requeue <strong>${formatCount(ids.length)}</strong> item(s) matching
          ${describeFilters(parsed.values)},
          ${step ? html`from step <strong>${step}</strong>` : 'each from its failed or first unfinished step'}.
          Items a worker holds right now are skipped and reported.
        </p>
        ${servingSentence(step, ids.length, facts)} ${tooMany(more)}`,
      fields: html`${filterFields(parsed.values)}${
        step
          ? html`<input type="hidden" name="from_step" value="${step}" />`
          : mustChoose
            ? html`<div>${requiredStepChoice('confirm-step')}</div>`
            : ''
      }`,
      expected: ids.length,
      ids,
      button: `Requeue ${formatCount(ids.length)} item(s)`,
      cancel: backTo(parsed),
    });
  });
  app.post<{ Body: Fields }>('/admin/items/requeue', async (request, reply) => {
    const parsed = parseItemFilters(request.body);
    const confirmed = parseConfirmedIds(request.body);
    const fromStep = fromStepOf(request.body);
    const current = await selectFiltered(context.admin.db, parsed.filters);
    const { ids, gone } = stillMatching(confirmed ?? [], current.ids);
    const parameters = { ids, failed: false, step: fromStep ?? null };
    return runDashboardAction(request, reply, context, backTo(parsed), async (actor) => {
      if (confirmed === undefined) return refuse(request, context, 'requeue', parameters, NOT_CONFIRMED);
      if (fromStep === undefined) {
        const { served } = await servingFacts(context.admin.db, ids);
        if (served.length > 0)
          return refuse(
            request,
            context,
            'requeue',
            parameters,
            `choose a step: ${served.length} served item(s) would restart from retrieve and stop being served; nothing requeued`,
          );
      }
      const done = await requeueAction(context.admin, actor, {
        ids,
        failedOnly: false,
        ...(fromStep ? { fromStep } : {}),
      });
      return { ...done, detail: done.detail + leftAlone(gone) };
    });
  });
}

const NOT_CONFIRMED = 'not confirmed: the form named no ids; nothing done';

/** A refusal before the action ran, audited like the API's (recordRefusal). */
async function refuse<T>(
  request: FastifyRequest,
  context: DashboardContext,
  action: string,
  parameters: Record<string, unknown>,
  detail: string,
): Promise<ActionResult<T | null>> {
  await recordRefusal(context.admin, { actor: actorOfSession(request), action, parameters }, detail);
  return { outcome: 'refused', detail, result: null };
}

function registerHeal(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Fields }>('/admin/items/heal', async (request, reply) => {
    const parsed = parseItemFilters(request.query);
    const healable = await countHealable(context.admin.db);
    const limit = Math.min(healable, context.admin.settings.healBatch);
    return confirmationPage(request, reply, context, {
      title: 'Heal failed items',
      action: '/admin/items/heal',
      question: html`<p>
        This will re-queue <strong>${formatCount(limit)}</strong> failed item(s) whose last error was
        transient (${formatCount(healable)} such, at most HEAL_BATCH
        ${formatCount(context.admin.settings.healBatch)} at a time), as <code>media-worker heal</code> does.
        Heal does not take the list's filter, nor an item: it picks any failed item whose last error was
        transient, oldest heal time first — not necessarily the ones on the page you came from.
      </p>`,
      fields: filterFields(parsed.values),
      expected: limit,
      button: `Heal ${formatCount(limit)} item(s)`,
      cancel: backTo(parsed),
    });
  });
  app.post<{ Body: Fields }>('/admin/items/heal', async (request, reply) => {
    const parsed = parseItemFilters(request.body);
    // The confirmed count is the limit, and never more than HEAL_BATCH: a forged count heals no more.
    const limit = Math.min(parseExpected(request.body), context.admin.settings.healBatch);
    return runDashboardAction(request, reply, context, backTo(parsed), (actor) =>
      healAction(context.admin, actor, { limit }),
    );
  });
}

function registerDeleteTestData(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: Fields }>('/admin/items/delete-test-data', async (request, reply) => {
    const parsed = parseItemFilters({ ...request.query, test: 'yes' });
    const { ids, more } = await selectFiltered(context.admin.db, parsed.filters);
    return confirmationPage(request, reply, context, {
      title: 'Delete test data',
      action: '/admin/items/delete-test-data',
      question: html`<p>
          This will delete <strong>${formatCount(ids.length)}</strong> test data item(s) matching
          ${describeFilters(parsed.values)}: their rows and files (served URLs answer 410 afterwards).
          Production items are never touched.
        </p>
        ${tooMany(more)}`,
      fields: filterFields(parsed.values),
      expected: ids.length,
      ids,
      button: `Delete ${formatCount(ids.length)} item(s)`,
      danger: true,
      cancel: backTo(parsed),
    });
  });
  app.post<{ Body: Fields }>('/admin/items/delete-test-data', async (request, reply) =>
    runDeleteTestData(request, reply, context),
  );
}

async function runDeleteTestData(
  request: FastifyRequest<{ Body: Fields }>,
  reply: FastifyReply,
  context: DashboardContext,
): Promise<FastifyReply> {
  const parsed = parseItemFilters({ ...request.body, test: 'yes' });
  const confirmed = parseConfirmedIds(request.body);
  const current = await selectFiltered(context.admin.db, parsed.filters);
  const { ids, gone } = stillMatching(confirmed ?? [], current.ids);
  const back =
    parsed.values.id !== '' && ids.length > 0 ? backTo(parsed) : `/admin/items${filterQuery(parsed.values)}`;
  const parameters = { ids, dry_run: false };
  return runDashboardAction(request, reply, context, back, async (actor) => {
    if (confirmed === undefined)
      return refuse(request, context, 'delete-test-data', parameters, NOT_CONFIRMED);
    if (ids.length === 0)
      return refuse(
        request,
        context,
        'delete-test-data',
        parameters,
        `nothing deleted: none of the ${confirmed.length} confirmed item(s) is test data matching the filter now`,
      );
    // Only confirmed ids that still match the test-data filter; deleteTestDataAction refuses production rows anyway.
    const done = await deleteTestDataAction(context.admin, actor, { ids, dryRun: false });
    return { ...done, detail: done.detail + leftAlone(gone) };
  });
}

export function registerBulkActions(app: FastifyInstance, context: DashboardContext): void {
  registerRequeue(app, context);
  registerHeal(app, context);
  registerDeleteTestData(app, context);
}
