/**
 * GET /api/media/analysis/:mediaId (CONTRACT.md §6), Bearer MEDIA_API_KEY
 * compared in constant time (both sides hashed first, so lengths never leak).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { findAnalysis, parseJsonColumn } from '../db/media-outputs.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function isAuthorised(header: string | undefined, key: string | undefined): boolean {
  if (!key || !header?.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(key));
}

export function analysisBody(row: Record<string, unknown>): Record<string, unknown> {
  return {
    style: row.style_classification ?? null,
    medium: row.medium_detected ?? null,
    subject_matter: row.subject_matter ?? null,
    quality_score: row.quality_score ?? null,
    mood_keywords: parseJsonColumn(row.mood_keywords) ?? [],
    brand_colors: parseJsonColumn(row.brand_colors) ?? null,
    site_context: parseJsonColumn(row.site_context) ?? null,
    dominant_colors: parseJsonColumn(row.dominant_colors) ?? [],
    detected_objects: parseJsonColumn(row.detected_objects) ?? null,
    detected_text: parseJsonColumn(row.detected_text) ?? null,
    faces: parseJsonColumn(row.faces) ?? null,
    moderation: parseJsonColumn(row.moderation) ?? null,
    flagged: row.flagged === null || row.flagged === undefined ? null : Boolean(row.flagged),
    confidence_score: row.confidence_score ?? null,
    ai_enhanced: Boolean(row.ai_enhanced),
    field_sources: parseJsonColumn(row.field_sources) ?? null,
    placeholder_hash: row.placeholder_hash ?? null,
    perceptual_hash: row.perceptual_hash ?? null,
    exif: parseJsonColumn(row.exif_summary) ?? null,
    provider: row.provider ?? null,
    provider_version: row.provider_version ?? null,
  };
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
    const row = await findAnalysis(db, Number(mediaId));
    if (!row) return reply.code(404).send({ success: false, error: `no analysis for media item ${mediaId}` });
    return { success: true, media_id: mediaId, analysis: analysisBody(row) };
  });
}
