/** The body of POST /api/media/complete (CONTRACT.md §3), built from what the item really has. */
import type { Db } from '../db/connect.js';
import { findAnalysis, listVariants, parseJsonColumn } from '../db/media-outputs.js';
import { findChecklist, type MediaRecord } from '../db/records.js';
import { SIZE_NAMES } from '../images/presets.js';

export async function buildCompleteBody(
  db: Db,
  media: MediaRecord,
  publicBaseUrl: string,
): Promise<Record<string, unknown>> {
  const [variants, analysis, checklist] = await Promise.all([
    listVariants(db, media.id),
    findAnalysis(db, media.id),
    findChecklist(db, media.id),
  ]);
  const original = variants.filter((v) => v.bg === 'original');
  const formats = ['avif', 'webp', 'jpeg', 'png'].filter((f) => original.some((v) => v.format === f));
  const sizes = SIZE_NAMES.filter((s) => original.some((v) => v.size === s));
  const analysed = analysis !== undefined && checklist?.ai_visual_analysis === 'completed';
  // ai_enhanced means a model looked at the image, not only the local measurements.
  const aiEnhanced = analysed && Boolean(analysis.ai_enhanced);
  const body: Record<string, unknown> = {
    media_id: String(media.id),
    permanent_url: `${publicBaseUrl}/serve/${media.id}`,
    processing_complete: true,
    ai_enhanced: aiEnhanced,
    formats_available: formats,
    sizes_available: sizes,
  };
  if (analysed) {
    const ai: Record<string, unknown> = {
      style: analysis.style_classification ?? undefined,
      medium: analysis.medium_detected ?? undefined,
      subject_matter: analysis.subject_matter ?? undefined,
      quality_score: analysis.quality_score ?? undefined,
      confidence_score: analysis.confidence_score ?? undefined,
      mood_keywords: parseJsonColumn(analysis.mood_keywords) ?? [],
      dominant_colors: parseJsonColumn(analysis.dominant_colors) ?? [],
      detected_objects: parseJsonColumn(analysis.detected_objects),
      faces: parseJsonColumn(analysis.faces),
      detected_text: parseJsonColumn(analysis.detected_text),
      moderation: parseJsonColumn(analysis.moderation),
      flagged:
        analysis.flagged === null || analysis.flagged === undefined ? undefined : Boolean(analysis.flagged),
    };
    if (media.role === 'logo') {
      ai.brand_colors = parseJsonColumn(analysis.brand_colors) ?? [];
      ai.background_removed = variants.some((v) => v.bg === 'removed');
    }
    if (media.role === 'site') ai.site_context = parseJsonColumn(analysis.site_context);
    body.ai_analysis = Object.fromEntries(Object.entries(ai).filter(([, value]) => value !== undefined));
  }
  return body;
}
