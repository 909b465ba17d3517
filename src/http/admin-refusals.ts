/**
 * An admin action refused with a 400 — by its route's own checks, by the
 * unknown-field hook (admin-inputs.ts) or by fastify's schema validation —
 * still leaves one audit row: `refused`, the key's name, the action, the
 * parameters as they were sent (bounded), and the message the caller got.
 * One onSend hook in the admin scope does it for every action route (its
 * route config names the action); reads name none and are not audited.
 * Failed authentication (401/403) is not a 400 and has no principal: no row.
 */
import type {
  FastifyReply,
  FastifyRequest,
  onSendAsyncHookHandler,
  preValidationAsyncHookHandler,
} from 'fastify';
import type { AdminContext } from '../admin/admin-context.js';
import { recordRefusal } from '../admin/audited.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit's action name of an admin action route (requeue, cleanup, …). */
    adminAction?: string;
  }
}

/** Most characters of a refused request's parameters kept (as JSON); a body may be 64 KiB. */
export const MAX_REFUSED_PARAMETER_CHARS = 4096;

/** The parameters as sent, before validation coerces or defaults them. */
const sentParameters = new WeakMap<FastifyRequest, Record<string, unknown>>();

/** The first preValidation step of an action route: remembers the body and query as they arrived. */
export const rememberParameters: preValidationAsyncHookHandler = function rememberParameters(
  request: FastifyRequest,
) {
  sentParameters.set(request, boundedParameters(partsOf(request)));
  return Promise.resolve();
};

export function auditRefusals(context: Pick<AdminContext, 'db' | 'log'>): onSendAsyncHookHandler {
  return async function auditRefusal(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const action = request.routeOptions.config.adminAction;
    if (action === undefined || reply.statusCode !== 400 || !request.principal) return payload;
    const parameters = sentParameters.get(request) ?? boundedParameters(partsOf(request));
    await recordRefusal(context, { actor: request.principal.name, action, parameters }, messageOf(payload));
    return payload;
  };
}

/** The parts of the request that carry parameters: the body when there is one, the query when it has any. */
function partsOf(request: FastifyRequest): Record<string, unknown> {
  const query = request.query as Record<string, unknown> | undefined;
  return {
    ...(request.body !== undefined && request.body !== null ? { body: structuredClone(request.body) } : {}),
    ...(query && Object.keys(query).length > 0 ? { query: { ...query } } : {}),
  };
}

function boundedParameters(parts: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(parts);
  if (json.length <= MAX_REFUSED_PARAMETER_CHARS) return parts;
  return { truncated: json.slice(0, MAX_REFUSED_PARAMETER_CHARS), length: json.length };
}

/** The `message` of the API error body the caller is sent. */
function messageOf(payload: unknown): string {
  try {
    const body: unknown = typeof payload === 'string' ? JSON.parse(payload) : payload;
    const message = (body as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: fall through.
  }
  return 'refused: the request is not valid';
}
