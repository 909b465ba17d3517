/**
 * GET /api/media/:id/manifest: the item's responsive-image manifest
 * (manifest/media-manifest.ts), behind Bearer MEDIA_API_KEY like the other
 * /api/media routes, errors `{error, message, field?}`: 400 a bad id, 401,
 * 404 `not_found`, 409 `not_ready` while the item has no variants, 410 `gone`
 * once deleted. Urls are root-relative, as GET /api/media/:id gives them.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { findManifest } from '../manifest/media-manifest.js';
import { apiErrorHandler, refuseUnauthorised, sendApiError, sendBadRequest } from './api-errors.js';
import { parseMediaId } from './media-query.js';

export function registerManifestRoute(app: FastifyInstance, db: Db, apiKey: string | undefined): void {
  app.get<{ Params: { id: string } }>(
    '/api/media/:id/manifest',
    { errorHandler: apiErrorHandler },
    async (request, reply) => {
      const refused = refuseUnauthorised(request, reply, apiKey);
      if (refused) return refused;
      const id = parseMediaId(request.params.id);
      if (typeof id !== 'number') return sendBadRequest(reply, id);
      const found = await findManifest(db, id, '');
      if ('manifest' in found) return reply.header('Cache-Control', 'no-store').send(found.manifest);
      return sendApiError(reply, found.problem, found.message);
    },
  );
}
