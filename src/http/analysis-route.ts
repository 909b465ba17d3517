/**
 * GET /api/media/analysis/:mediaId (CONTRACT.md §6), Bearer MEDIA_API_KEY
 * compared in constant time (both sides hashed first, so lengths never leak).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { contractAnalysis } from '../analysis/contract-body.js';
import { findAnalysisRecord } from '../db/media-outputs.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function isAuthorised(header: string | undefined, key: string | undefined): boolean {
  if (!key || !header?.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(key));
}

export function registerAnalysisRoute(app: FastifyInstance, db: Db, apiKey: string | undefined): void {
  app.get<{ Params: { mediaId: string } }>('/api/media/analysis/:mediaId', async (request, reply) => {
    if (!isAuthorised(request.headers.authorization, apiKey)) {
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ success: false, error: 'a valid Bearer MEDIA_API_KEY is required' });
    }
    const { mediaId } = request.params;
    if (!/^\d{1,15}$/.test(mediaId))
      return reply
        .code(400)
        .send({ success: false, error: `media id must be a positive integer (got "${mediaId}")` });
    const row = await findAnalysisRecord(db, Number(mediaId));
    if (!row) return reply.code(404).send({ success: false, error: `no analysis for media item ${mediaId}` });
    return { success: true, media_id: mediaId, analysis: contractAnalysis(row) };
  });
}
