/**
 * Schema pieces the /api routes share, for fastify's validation and the
 * OpenAPI document it generates (GET /api/openapi.json): the id parameter,
 * the Bearer security requirement and the error answers.
 */
import { API_ERROR_SCHEMA } from './api-errors.js';

export { API_ERROR_SCHEMA };

/** Ids are checked by parseMediaId, whose message names the parameter; the schema documents them. */
export const MEDIA_ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'the media id (a positive integer)' } },
} as const;

export const BEARER = [{ bearer: [] }];

const errorAnswer = (description: string) => ({ description, $ref: 'ApiError#' });

/** The error answers of a route with the given scope, for its `response` schema. */
export function errorResponses(...extra: Array<400 | 404 | 409 | 410 | 413 | 415>) {
  const descriptions: Record<number, string> = {
    400: 'a parameter or field is not valid (`field` names it)',
    401: 'no valid key',
    403: 'the key lacks the scope',
    404: 'no such item',
    409: 'the item is not ready yet, or the request conflicts with an earlier one',
    410: 'the item was deleted',
    413: 'the body is larger than the limit',
    415: 'the body is not an accepted image type',
    429: 'too many requests for this key (see Retry-After)',
    500: 'a bug: logged, answered without internals',
    503: 'the database, storage or a service did not answer (see Retry-After)',
  };
  const statuses = [...extra, 401, 403, 429, 500, 503];
  return Object.fromEntries(statuses.map((status) => [status, errorAnswer(descriptions[status]!)]));
}

/** A JSON object answer documented by description, serialised as is (no property is dropped). */
export function objectAnswer(description: string) {
  return { description, type: 'object', additionalProperties: true } as const;
}
