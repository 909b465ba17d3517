/**
 * GET /api/media/:id/manifest: the item's responsive-image manifest
 * (manifest/media-manifest.ts), scope `media` like the other /api/media
 * routes, errors `{error, message, field?}`: 400 a bad id, 404 `not_found`,
 * 409 `not_ready` while the item has no variants, 410 `gone` once deleted.
 * Urls are root-relative, as GET /api/media/:id gives them.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { findManifest } from '../manifest/media-manifest.js';
import { requireScope } from './api-auth.js';
import { sendApiError, sendBadRequest } from './api-errors.js';
import type { ApiKeyring } from './api-keys.js';
import { BEARER, MEDIA_ID_PARAMS, errorResponses, objectAnswer } from './api-schemas.js';
import { parseMediaId } from './media-query.js';

export function registerManifestRoute(app: FastifyInstance, db: Db, keyring: ApiKeyring): void {
  app.get<{ Params: { id: string } }>(
    '/api/media/:id/manifest',
    {
      onRequest: requireScope(keyring, 'media'),
      schema: {
        summary: 'The responsive-image manifest: sizes, srcset, placeholder, colour, alt text, <picture>',
        tags: ['media'],
        security: BEARER,
        params: MEDIA_ID_PARAMS,
        response: { 200: objectAnswer('the manifest'), ...errorResponses(400, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const id = parseMediaId(request.params.id);
      if (typeof id !== 'number') return sendBadRequest(reply, id);
      const found = await findManifest(db, id, '');
      if ('manifest' in found) return reply.header('Cache-Control', 'no-store').send(found.manifest);
      return sendApiError(reply, found.problem, found.message);
    },
  );
}
