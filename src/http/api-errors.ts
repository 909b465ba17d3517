/**
 * The one error shape of the media API (/api/media…): `{error, message,
 * field?}`, the helper that sends it, and what every route shares: the key
 * check and the handler for what a route did not expect.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isAuthorised } from './analysis-route.js';

export type ApiErrorCode =
  'bad_request' | 'unauthorized' | 'not_found' | 'not_ready' | 'gone' | 'internal_error';

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  /** The path or query parameter that is wrong (400 only). */
  field?: string;
}

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  not_ready: 409,
  gone: 410,
  internal_error: 500,
};

/** A problem with one request parameter, as the parsers return it. */
export interface FieldProblem {
  field: string;
  message: string;
}

export function sendApiError(
  reply: FastifyReply,
  error: ApiErrorCode,
  message: string,
  field?: string,
): FastifyReply {
  const body: ApiErrorBody = { error, message, ...(field !== undefined ? { field } : {}) };
  if (error === 'unauthorized') reply.header('WWW-Authenticate', 'Bearer');
  return reply.code(STATUS[error]).header('Cache-Control', 'no-store').send(body);
}

export function sendBadRequest(reply: FastifyReply, problem: FieldProblem): FastifyReply {
  return sendApiError(reply, 'bad_request', problem.message, problem.field);
}

/** Sends 401 and answers the reply unless the request carries the key (constant time); undefined when it does. */
export function refuseUnauthorised(
  request: FastifyRequest,
  reply: FastifyReply,
  apiKey: string | undefined,
): FastifyReply | undefined {
  if (isAuthorised(request.headers.authorization, apiKey)) return undefined;
  const message = apiKey
    ? 'a valid Authorization: Bearer MEDIA_API_KEY header is required'
    : 'this server has no MEDIA_API_KEY configured: the media API answers nobody';
  return sendApiError(reply, 'unauthorized', message);
}

/** What a route did not expect (a bug, a database that stopped answering): logged, answered 500 without internals. */
export function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.error({ err: error, url: request.url }, 'media API: the request failed');
  void sendApiError(reply, 'internal_error', 'the media API could not answer; try again later');
}
