/**
 * GET /api/media/:id (one item's status, steps, variants and links) and
 * GET /api/media (a filtered, keyset-paginated listing), scope `media`
 * (api-auth.ts). Errors are `{error, message, field?}` (api-errors.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { findItemView, ITEM_STATUSES } from '../db/item-view.js';
import { listMedia } from '../db/media-list.js';
import { ROLES } from '../media-roles.js';
import { requireScope } from './api-auth.js';
import { sendApiError, sendBadRequest } from './api-errors.js';
import type { ApiKeyring } from './api-keys.js';
import { BEARER, MEDIA_ID_PARAMS, errorResponses, objectAnswer } from './api-schemas.js';
import { encodeCursor, parseListQuery, parseMediaId, MAX_LIMIT } from './media-query.js';

const text = (description: string, extra: object = {}) => ({ type: 'string', description, ...extra });

/** Documented here, checked by parseListQuery (which names the first wrong parameter). */
const LIST_QUERY = {
  type: 'object',
  properties: {
    user_id: text('only this user’s items'),
    role: text('only this role', { enum: [...ROLES, 'unknown'] }),
    data_type: text('only this data type'),
    status: text('only items in this state', { enum: [...ITEM_STATUSES] }),
    is_test_data: text('only test data (true) or only production data (false)', { enum: ['true', 'false'] }),
    since: text('created at or after (epoch ms)'),
    until: text('created before (epoch ms)'),
    cursor: text('the next_cursor of the previous page'),
    limit: text(`page size, 1–${MAX_LIMIT} (default 50)`),
  },
} as const;

export function registerMediaStatusRoutes(app: FastifyInstance, db: Db, keyring: ApiKeyring): void {
  app.get<{ Params: { id: string } }>(
    '/api/media/:id',
    {
      onRequest: requireScope(keyring, 'media'),
      schema: {
        summary: 'An item’s status: state, failure, steps with attempts, times and cost, variants, links',
        tags: ['media'],
        security: BEARER,
        params: MEDIA_ID_PARAMS,
        response: { 200: objectAnswer('the item'), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const id = parseMediaId(request.params.id);
      if (typeof id !== 'number') return sendBadRequest(reply, id);
      const view = await findItemView(db, id);
      if (!view) return sendApiError(reply, 'not_found', `no media item with id ${id}`);
      return reply.header('Cache-Control', 'no-store').send(view);
    },
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/media',
    {
      onRequest: requireScope(keyring, 'media'),
      schema: {
        summary: 'Items by owner, role, type, state and time; keyset-paginated by id',
        tags: ['media'],
        security: BEARER,
        querystring: LIST_QUERY,
        response: {
          200: objectAnswer('a page: items and next_cursor (null on the last page)'),
          ...errorResponses(400),
        },
      },
    },
    async (request, reply) => {
      const filters = parseListQuery(request.query);
      if ('field' in filters) return sendBadRequest(reply, filters);
      const page = await listMedia(db, filters);
      return reply
        .header('Cache-Control', 'no-store')
        .send({ items: page.items, next_cursor: page.lastId === null ? null : encodeCursor(page.lastId) });
    },
  );
}
