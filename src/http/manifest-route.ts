/**
 * GET /api/media/:id/manifest: the item's responsive-image manifest
 * (manifest/media-manifest.ts), behind Bearer MEDIA_API_KEY like the other
 * /api/media routes, errors `{error, message, field?}`: 400 a bad id, 401,
 * 404 `not_found`, 409 `not_ready` while the item has no variants, 410 `gone`
 * once deleted. Urls are root-relative, as GET /api/media/:id gives them.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/connect.js';
import { findManifest } from '../manifest/media-manifest.js';
import { isAuthorised } from './analysis-route.js';
import { sendApiError, sendBadRequest } from './api-errors.js';
import { parseMediaId } from './media-query.js';

/** The codes this route adds to api-errors.ts's, in the same body shape. */
const EXTRA_STATUS = { not_ready: 409, gone: 410 } as const;

function sendExtraError(
  reply: FastifyReply,
  error: keyof typeof EXTRA_STATUS,
  message: string,
): FastifyReply {
  return reply.code(EXTRA_STATUS[error]).header('Cache-Control', 'no-store').send({ error, message });
}

export function registerManifestRoute(app: FastifyInstance, db: Db, apiKey: string | undefined): void {
  app.get<{ Params: { id: string } }>(
    '/api/media/:id/manifest',
    {
      errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
        request.log.error({ err: error, url: request.url }, 'media API: the request failed');
        void sendApiError(reply, 'internal_error', 'the media API could not answer; try again later');
      },
    },
    async (request, reply) => {
      if (!isAuthorised(request.headers.authorization, apiKey)) {
        const message = apiKey
          ? 'a valid Authorization: Bearer MEDIA_API_KEY header is required'
          : 'this server has no MEDIA_API_KEY configured: the media API answers nobody';
        return sendApiError(reply, 'unauthorized', message);
      }
      const id = parseMediaId(request.params.id);
      if (typeof id !== 'number') return sendBadRequest(reply, id);
      const found = await findManifest(db, id, '');
      if ('manifest' in found) return reply.header('Cache-Control', 'no-store').send(found.manifest);
      if (found.problem === 'not_found') return sendApiError(reply, 'not_found', found.message);
      return sendExtraError(reply, found.problem, found.message);
    },
  );
}
