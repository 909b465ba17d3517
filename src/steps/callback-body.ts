/** The body of POST /api/media/complete (CONTRACT.md §3), built from what the item really has. */
import type { Db } from '../db/connect.js';
import { completeAnalysis } from '../analysis/contract-body.js';
import { findAnalysisRecord, listVariants } from '../db/media-outputs.js';
import { findChecklist, stepState, type MediaRecord } from '../db/records.js';
import { missingOnDemandVariants } from '../images/on-demand-sizes.js';
import { SIZE_NAMES } from '../images/presets.js';
import { buildManifest } from '../manifest/media-manifest.js';

export async function buildCompleteBody(
  db: Db,
  media: MediaRecord,
  publicBaseUrl: string,
): Promise<Record<string, unknown>> {
  const [variants, analysis, checklist] = await Promise.all([
    listVariants(db, media.id),
    findAnalysisRecord(db, media.id),
    findChecklist(db, media.id),
  ]);
  const original = variants.filter((v) => v.bg === 'original');
  const formats = ['avif', 'webp', 'jpeg', 'png'].filter((f) => original.some((v) => v.format === f));
  // On-demand sizes are listed too: the first request for one renders it (images/on-demand-sizes.ts).
  const planned = missingOnDemandVariants(media, variants);
  const sizes = SIZE_NAMES.filter(
    (s) => original.some((v) => v.size === s) || planned.some((v) => v.size === s),
  );
  const analysed =
    analysis !== undefined &&
    checklist !== undefined &&
    stepState(checklist, 'analyse').status === 'completed';
  // ai_enhanced means a model looked at the image, not only the local measurements.
  const aiEnhanced = analysed && analysis.ai_enhanced;
  const body: Record<string, unknown> = {
    media_id: String(media.id),
    permanent_url: `${publicBaseUrl}/serve/${media.id}`,
    processing_complete: true,
    ai_enhanced: aiEnhanced,
    formats_available: formats,
    sizes_available: sizes,
  };
  if (analysed) {
    body.ai_analysis = completeAnalysis(analysis, {
      role: media.role,
      backgroundRemoved: variants.some((v) => v.bg === 'removed'),
    });
  }
  // Additive: the responsive-image manifest, as GET /api/media/:id/manifest answers it but with absolute urls.
  body.manifest = await buildManifest({ media, variants, analysis }, publicBaseUrl);
  return body;
}
