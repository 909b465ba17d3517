/**
 * What every /api/admin route shares: the admin key check, the OpenAPI
 * parts (tag, Bearer security, error answers), unknown-field refusal, the
 * caller's name for the audit, and the answer to an action. An action
 * route names its audit action, so that a 400 refusing it is audited too
 * (admin-refusals.ts).
 */
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { ActionResult } from '../admin/audited.js';
import { requireScope } from './api-auth.js';
import type { ApiKeyring } from './api-keys.js';
import { BEARER, errorResponses, objectAnswer } from './api-schemas.js';
import { onlyKnownFields, propertiesOf } from './admin-inputs.js';
import { rememberParameters } from './admin-refusals.js';
import { strictBodyValidator } from './strict-body-validator.js';

type FieldSchema = { type: 'object'; properties: Record<string, unknown> };

export interface AdminRouteSpec {
  /** An action's audit name (requeue, cleanup, …); reads have none and are not audited. */
  action?: string;
  summary: string;
  description?: string;
  body?: FieldSchema;
  querystring?: FieldSchema;
  answer: string;
  errors?: Array<400 | 409>;
}

export function adminRoute(keyring: ApiKeyring, spec: AdminRouteSpec): RouteShorthandOptions {
  const checks = [
    ...(spec.action !== undefined ? [rememberParameters] : []),
    ...(spec.body ? [onlyKnownFields('body', propertiesOf(spec.body))] : []),
    ...(spec.querystring ? [onlyKnownFields('query', propertiesOf(spec.querystring))] : []),
  ];
  return {
    // Reads need the read scope (read-only keys hold it too); actions need admin.
    onRequest: requireScope(keyring, spec.action !== undefined ? 'admin' : 'read'),
    ...(spec.action !== undefined ? { config: { adminAction: spec.action } } : {}),
    ...(checks.length > 0 ? { preValidation: checks } : {}),
    // A JSON body's types are checked as sent: `"dry_run": 0` is a 400, not a false that deletes for real.
    ...(spec.body ? { validatorCompiler: strictBodyValidator } : {}),
    schema: {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: ['admin'],
      security: BEARER,
      ...(spec.body ? { body: { ...spec.body, additionalProperties: false } } : {}),
      ...(spec.querystring ? { querystring: { ...spec.querystring, additionalProperties: false } } : {}),
      response: { 200: objectAnswer(spec.answer), ...errorResponses(400, ...(spec.errors ?? [])) },
    },
  };
}

/** The audit's actor: the name of the key that passed requireScope. */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? 'unknown';
}

/** An action's answer: `{outcome, detail, result}`; never cached. */
export function sendAction<T>(reply: FastifyReply, done: ActionResult<T>): FastifyReply {
  return reply.header('Cache-Control', 'no-store').send(done);
}

export const flag = (description: string) => ({ type: 'boolean', description });

/** Most ids one request may name (a JSON body is at most 64 KiB anyway). */
export const MAX_IDS = 1000;

/** A body's list of media ids, at most MAX_IDS. */
export const idList = (description: string) => ({
  type: 'array',
  items: { type: 'integer', minimum: 1 },
  maxItems: MAX_IDS,
  description: `${description} (at most ${MAX_IDS})`,
});
