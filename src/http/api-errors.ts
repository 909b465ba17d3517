/**
 * The one error shape of the media API (/api/…): `{error, message, field?}`,
 * the helper that sends it, and the handler every /api route shares, which
 * turns what fastify and its plugins throw into that shape by what it is
 * (a schema violation names its field; a database that stopped answering is
 * 503 with Retry-After; anything else unexpected is 500 without internals).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isRetryableDbError } from '../db/connect.js';
import { codeInChain, findMediaError } from '../errors.js';
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';

export const API_ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_ready: 409,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  /** The parameter, header or body field that is wrong. */
  field?: string;
}

/** A problem with one request parameter, as the parsers return it. */
export interface FieldProblem {
  field: string;
  message: string;
}

function bodyUnread(request: FastifyRequest): boolean {
  const { headers } = request;
  const length = headers['content-length'];
  const announced = headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return announced && !request.raw.complete;
}

/** How long a caller should wait after a 503 before trying again. */
const UNAVAILABLE_RETRY_AFTER_S = 5;

export function sendApiError(
  reply: FastifyReply,
  error: ApiErrorCode,
  message: string,
  field?: string,
): FastifyReply {
  const body: ApiErrorBody = { error, message, ...(field !== undefined ? { field } : {}) };
  if (error === 'unauthorized') reply.header('WWW-Authenticate', 'Bearer');
  // Answered before the body was all read (a hook refused it, or the upload failed midway):
  // closing makes Node drop the socket instead of draining the rest or leaving the client waiting.
  if (bodyUnread(reply.request)) reply.header('Connection', 'close');
  if (error === 'unavailable') reply.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
  return reply.code(API_ERROR_STATUS[error]).header('Cache-Control', 'no-store').send(body);
}

export function sendBadRequest(reply: FastifyReply, problem: FieldProblem): FastifyReply {
  return sendApiError(reply, 'bad_request', problem.message, problem.field);
}

/** The field a JSON-schema violation is about, and a sentence that names it. */
export function schemaProblem(error: FastifyError): FieldProblem {
  const first = error.validation?.[0];
  const missing = (first?.params as { missingProperty?: unknown } | undefined)?.missingProperty;
  const path = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '';
  const field = typeof missing === 'string' ? (path ? `${path}.${missing}` : missing) : path;
  const where = error.validationContext ?? 'request';
  if (!first) return { field: where, message: error.message };
  if (typeof missing === 'string') return { field, message: `${field} is required` };
  return { field: field || where, message: `${field || where} ${first.message ?? 'is not valid'}` };
}

/** Statuses fastify and its plugins (body limits, content types, rate limit) answer with. */
const PLUGIN_STATUS: Partial<Record<number, ApiErrorCode>> = {
  400: 'bad_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** What a failed request is, by what it is: the answer's code and message, and how to log it. */
export interface ClassifiedError {
  code: ApiErrorCode;
  message: string;
  field?: string;
  /** outage: the database; fault: storage or a service; bug: anything else (logged with its stack). */
  log: 'none' | 'outage' | 'fault' | 'bug';
}

export function classifyRequestError(error: FastifyError): ClassifiedError {
  if (error.validation) {
    const problem = schemaProblem(error);
    return { code: 'bad_request', message: problem.message, field: problem.field, log: 'none' };
  }
  const known = error.statusCode === undefined ? undefined : PLUGIN_STATUS[error.statusCode];
  if (known) return { code: known, message: error.message, log: 'none' };
  if (isRetryableDbError(error) || isRetryableDbError((error as { cause?: unknown }).cause))
    return {
      code: 'unavailable',
      message: 'the database is not answering; try again shortly',
      log: 'outage',
    };
  if (isPassingFault(error))
    return {
      code: 'unavailable',
      message: 'storage or a service this needs did not answer; try again shortly',
      log: 'fault',
    };
  return {
    code: 'internal_error',
    message: 'the request could not be answered; try again later',
    log: 'bug',
  };
}

/** Logs a classified error: outages and faults once per repetition (RepeatedProblem), bugs every time. */
export function createErrorReporter(log: Logger, what: string) {
  const outage = new RepeatedProblem(log, `${what}: the database did not answer`);
  const faults = new RepeatedProblem(log, `${what}: storage or a service did not answer`);
  return (classified: ClassifiedError, error: FastifyError, request: FastifyRequest): void => {
    if (classified.log === 'outage') outage.report(error, { url: request.url });
    else if (classified.log === 'fault') faults.report(error, { url: request.url });
    else if (classified.log === 'bug')
      request.log.error({ err: error, url: request.url }, `${what}: the request failed`);
  };
}

/**
 * The /api scope's error handler. A database outage fails every request while
 * it lasts: logged as one RepeatedProblem (a line per interval), not a line
 * per request.
 */
export function createApiErrorHandler(log: Logger) {
  const report = createErrorReporter(log, 'API');
  return function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const classified = classifyRequestError(error);
    report(classified, error, request);
    if (classified.field !== undefined) {
      void sendBadRequest(reply, { field: classified.field, message: classified.message });
      return;
    }
    void sendApiError(
      reply,
      classified.code,
      classified.code === 'internal_error' ? 'the API could not answer; try again later' : classified.message,
    );
  };
}

function isPassingFault(error: unknown): boolean {
  const known = findMediaError(error);
  if (known) return known.errorClass === 'TRANSIENT' || known.errorClass === 'RATE_LIMIT';
  return /^E[A-Z0-9]+$/.test(codeInChain(error) ?? '');
}

/** The schema of the error body, for the OpenAPI document. */
export const API_ERROR_SCHEMA = {
  $id: 'ApiError',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: Object.keys(API_ERROR_STATUS) },
    message: { type: 'string' },
    field: { type: 'string' },
  },
} as const;
