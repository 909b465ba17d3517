/**
 * GET /api/media/:id (one item's status, steps, variants and links) and
 * GET /api/media (a filtered, keyset-paginated listing), both behind
 * Bearer MEDIA_API_KEY (constant time, isAuthorised): without a configured
 * key nothing is answered but 401. Errors are `{error, message, field?}`
 * (api-errors.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { findItemView } from '../db/item-view.js';
import { listMedia } from '../db/media-list.js';
import { apiErrorHandler, refuseUnauthorised, sendApiError, sendBadRequest } from './api-errors.js';
import { encodeCursor, parseListQuery, parseMediaId } from './media-query.js';

export function registerMediaStatusRoutes(app: FastifyInstance, db: Db, apiKey: string | undefined): void {
  app.get<{ Params: { id: string } }>(
    '/api/media/:id',
    { errorHandler: apiErrorHandler },
    async (request, reply) => {
      const refused = refuseUnauthorised(request, reply, apiKey);
      if (refused) return refused;
      const id = parseMediaId(request.params.id);
      if (typeof id !== 'number') return sendBadRequest(reply, id);
      const view = await findItemView(db, id);
      if (!view) return sendApiError(reply, 'not_found', `no media item with id ${id}`);
      return reply.header('Cache-Control', 'no-store').send(view);
    },
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/media',
    { errorHandler: apiErrorHandler },
    async (request, reply) => {
      const refused = refuseUnauthorised(request, reply, apiKey);
      if (refused) return refused;
      const filters = parseListQuery(request.query);
      if ('field' in filters) return sendBadRequest(reply, filters);
      const page = await listMedia(db, filters);
      return reply
        .header('Cache-Control', 'no-store')
        .send({ items: page.items, next_cursor: page.lastId === null ? null : encodeCursor(page.lastId) });
    },
  );
}
