/** The one error shape of the media API (/api/media…): `{error, message, field?}`, and the helper that sends it. */
import type { FastifyReply } from 'fastify';

export type ApiErrorCode = 'bad_request' | 'unauthorized' | 'not_found' | 'internal_error';

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
