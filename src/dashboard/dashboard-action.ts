/**
 * How a dashboard form runs an admin action: the same audited function the
 * CLI and /api/admin call, with the signed-in key's name as the actor; its
 * outcome becomes the next page's message, and the browser is sent back
 * (303) to the page the form was on. A failure is audited by the action
 * itself and shown, never swallowed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActionResult } from '../admin/audited.js';
import { isRetryableDbError } from '../db/connect.js';
import { findMediaError } from '../errors.js';
import { firstLine } from '../repeated-problem.js';
import type { DashboardContext } from './dashboard-context.js';
import { isSecureRequest } from './dashboard-session.js';
import { setFlash } from './flash.js';

/** The audit's actor for a dashboard action: the key's name, as the API records it. */
export function actorOfSession(request: FastifyRequest): string {
  return request.dashboardSession?.keyName ?? 'unknown';
}

/**
 * What the page says about a failed action: our own errors' messages (written
 * for operators), else only what kind of failure it was — a driver's or a
 * library's text can name internal hosts and tables; the log has it.
 */
function failureText(error: unknown): string {
  if (isRetryableDbError(error))
    return 'failed: the database did not answer; the action may not have run (the audit and the log say)';
  const own = findMediaError(error);
  if (own) return `failed: ${firstLine(own)}`;
  return 'failed: an internal error (the log and the audit have the details)';
}

export async function runDashboardAction<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  context: DashboardContext,
  backTo: string,
  run: (actor: string) => Promise<ActionResult<T>>,
): Promise<FastifyReply> {
  const secure = isSecureRequest(request, context.sessionSettings.cookieSecure);
  try {
    const done = await run(actorOfSession(request));
    setFlash(reply, { kind: done.outcome === 'ok' ? 'ok' : 'refused', text: done.detail }, secure);
  } catch (error) {
    context.admin.log.warn({ err: firstLine(error), url: request.url }, 'dashboard: an action failed');
    setFlash(reply, { kind: 'failed', text: failureText(error) }, secure);
  }
  return reply.redirect(backTo, 303);
}
