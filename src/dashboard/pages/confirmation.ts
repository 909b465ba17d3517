/**
 * The server-side confirmation every bulk or destructive action shows first:
 * what it will do and to how many items, and a form that posts the same
 * selection with that count (the POST refuses when more match by then).
 * Works without JavaScript; a read-only session sees the question, no form.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STEP_NAMES } from '../../db/step-columns.js';
import type { DashboardContext } from '../dashboard-context.js';
import { html, type SafeHtml } from '../html.js';
import { canAct, csrfField, sendPage, type NavPath } from '../page-layout.js';

export interface Confirmation {
  title: string;
  action: string;
  question: SafeHtml;
  /** The selection, as hidden fields. */
  fields: SafeHtml;
  expected: number;
  /** The exact ids the count is of: the POST acts only on those of them that still match. */
  ids?: readonly number[];
  button: string;
  danger?: boolean;
  cancel: string;
  nav?: NavPath;
}

export async function confirmationPage(
  request: FastifyRequest,
  reply: FastifyReply,
  context: DashboardContext,
  confirm: Confirmation,
): Promise<FastifyReply> {
  const session = request.dashboardSession!;
  const form = canAct(session)
    ? html`<form method="post" action="${confirm.action}" class="actions">
        ${csrfField(session)}${confirm.fields}
        <input type="hidden" name="expected" value="${confirm.expected}" />
        ${confirm.ids ? html`<input type="hidden" name="ids" value="${confirm.ids.join(',')}" />` : ''}
        <button type="submit" ${confirm.danger ? html`class="danger"` : ''}>${confirm.button}</button>
        <a class="button secondary" href="${confirm.cancel}">Cancel</a>
      </form>`
    : html`<p class="muted">This key is read-only: it cannot run this action.</p>
        <p><a href="${confirm.cancel}">Back</a></p>`;
  return sendPage(request, reply, context.layout, {
    title: confirm.title,
    nav: confirm.nav ?? '/admin/items',
    body: html`<h1>${confirm.title}</h1>
      <section class="confirm" aria-label="Confirm">${confirm.question} ${form}</section>`,
  });
}

/** The count the confirmation showed; 0 when missing or malformed (then nothing is confirmed). */
export function parseExpected(fields: Record<string, unknown>): number {
  const raw = fields.expected;
  return typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : 0;
}

/** The "from step" choice of a requeue form. */
export function stepChoice(id: string): SafeHtml {
  return html`<label for="${id}">From step</label>
    <select id="${id}" name="from_step">
      <option value="">its failed or first unfinished step</option>
      ${STEP_NAMES.map((step) => html`<option value="${step}">${step}</option>`)}
    </select>`;
}

/** A step the operator must choose (no default): a requeue whose default would take served items offline. */
export function requiredStepChoice(id: string): SafeHtml {
  return html`<label for="${id}">From step (required)</label>
    <select id="${id}" name="from_step" required>
      <option value="" selected disabled>choose a step</option>
      ${STEP_NAMES.map((step) => html`<option value="${step}">${step}</option>`)}
    </select>`;
}

/** The flash's addition when some confirmed ids no longer matched. */
export function leftAlone(gone: number): string {
  return gone === 0 ? '' : `; ${gone} confirmed item(s) no longer matched and were left alone`;
}
