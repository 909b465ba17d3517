/**
 * GET /api/media/analysis/:mediaId (CONTRACT.md §6), for any key with the
 * `media` scope (api-keys.ts: constant-time comparison). Its answers keep
 * the contract's own `{success, …}` shape, which the main API reads.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { contractAnalysis } from '../analysis/contract-body.js';
import { findAnalysisRecord } from '../db/media-outputs.js';
import type { ApiKeyring } from './api-keys.js';
import { BEARER, objectAnswer } from './api-schemas.js';

const contractError = (description: string) => ({
  description,
  type: 'object',
  properties: { success: { type: 'boolean', const: false }, error: { type: 'string' } },
});

export function registerAnalysisRoute(app: FastifyInstance, db: Db, keyring: ApiKeyring): void {
  app.get<{ Params: { mediaId: string } }>(
    '/api/media/analysis/:mediaId',
    {
      schema: {
        summary: 'An item’s analysis in the contract’s shape (CONTRACT §6)',
        tags: ['media'],
        security: BEARER,
        params: {
          type: 'object',
          properties: { mediaId: { type: 'string', description: 'the media id (a positive integer)' } },
        },
        response: {
          200: objectAnswer('`{success: true, media_id, analysis}`'),
          400: contractError('the id is not a positive integer'),
          401: contractError('no valid key with the media scope'),
          404: contractError('no analysis for this item'),
        },
      },
    },
    async (request, reply) => {
      if (!keyring.identify(request.headers.authorization)?.scopes.includes('media')) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer')
          .send({ success: false, error: 'a valid Bearer key with the media scope is required' });
      }
      const { mediaId } = request.params;
      if (!/^\d{1,15}$/.test(mediaId))
        return reply
          .code(400)
          .send({ success: false, error: `media id must be a positive integer (got "${mediaId}")` });
      const row = await findAnalysisRecord(db, Number(mediaId));
      if (!row)
        return reply.code(404).send({ success: false, error: `no analysis for media item ${mediaId}` });
      return { success: true, media_id: mediaId, analysis: contractAnalysis(row) };
    },
  );
}
