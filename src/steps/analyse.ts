/**
 * Step 2, analyse (local provider): colours, quality, mood, placeholder and
 * perceptual hashes, EXIF summary, brand colours for logos, site context.
 * A failure of the analysis itself never blocks delivery: the step is
 * recorded as skipped with the reason and the item goes on without it
 * (ai_enhanced: false). A file that cannot be decoded is another matter: it
 * fails the item here, as resize would.
 */
import sharp from 'sharp';
import type { Db } from '../db/connect.js';
import { findAnalysis, findDuplicateSource, saveAnalysis, type AnalysisRow } from '../db/media-outputs.js';
import { LeaseLostError } from '../errors.js';
import { analyseImage, type LocalAnalysis } from '../images/analyse-image.js';
import { summariseExif, type ExifSummary } from '../images/exif-summary.js';
import { VERSION } from '../version.js';
import { decodedItem, logoWithoutBackground, type DecodeOptions } from './decoded-item.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export interface AnalyseOptions extends DecodeOptions {
  db: Db;
}

export const LOCAL_PROVIDER = 'local';

function toRow(analysis: LocalAnalysis, exif: ExifSummary | undefined): AnalysisRow {
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  return {
    dominant_colors: json(analysis.dominantColors),
    quality_score: analysis.qualityScore,
    mood_keywords: json(analysis.moodKeywords),
    brand_colors: json(analysis.brandColors),
    site_context: json(analysis.siteContext),
    placeholder_hash: analysis.placeholderHash,
    perceptual_hash: analysis.perceptualHash,
    exif_summary: json(exif),
    raw_responses: json({ [LOCAL_PROVIDER]: { ...analysis, exif } }),
    provider: LOCAL_PROVIDER,
    provider_version: VERSION,
  };
}

export function createAnalyseStep(options: AnalyseOptions): Step {
  return {
    name: 'analyse',
    async run(context: StepContext): Promise<StepOutcome> {
      const reused = await reuseDuplicateAnalysis(options.db, context);
      if (reused) return reused;
      const decoded = await decodedItem(context, options);
      let row: AnalysisRow;
      try {
        const removal =
          context.media.role === 'logo' ? await logoWithoutBackground(context, options) : undefined;
        const analysis = await analyseImage(
          decoded,
          { width: context.media.width!, height: context.media.height!, role: context.media.role },
          removal,
        );
        const { exif } = await sharp(options.storage.absolutePath(context.media.bulk_path!)).metadata();
        row = toRow(analysis, summariseExif(exif));
      } catch (error) {
        if (error instanceof LeaseLostError) throw error;
        const message = (error as Error).message;
        context.log.warn({ err: message }, 'analysis failed; delivering without it');
        return {
          status: 'skipped',
          note: `analysis failed (${message}); delivered without analysis (ai_enhanced: false)`,
        };
      }
      await saveAnalysis(options.db, context.guard, row);
      return {
        status: 'completed',
        note: `quality ${String(row.quality_score)}, colours ${String(row.dominant_colors)}`,
      };
    },
  };
}

async function reuseDuplicateAnalysis(db: Db, context: StepContext): Promise<StepOutcome | undefined> {
  const source = await findDuplicateSource(db, context.media);
  const analysis = source && (await findAnalysis(db, source.id));
  if (!source || !analysis) return undefined;
  const { media_id: _id, created_at: _created, updated_at: _updated, ...copy } = analysis;
  await saveAnalysis(db, context.guard, copy);
  return { status: 'completed', note: `reused the analysis of item ${source.id} (identical bytes)` };
}
