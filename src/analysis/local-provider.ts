/**
 * The local provider: what the worker measures itself from pixels, in well
 * under a second (colours, quality, mood words, hashes, EXIF, brand colours,
 * site context) plus the medium from colour, edge and texture statistics.
 * Formulas, not models: it never makes an item ai_enhanced.
 */
import sharp from 'sharp';
import { analyseImage } from '../images/analyse-image.js';
import { summariseExif } from '../images/exif-summary.js';
import { mediumHint } from '../images/medium-hint.js';
import { VERSION } from '../version.js';
import type { AnalysisInput, AnalysisProvider, ProviderReport } from './analysis-provider.js';

const measured = (value: unknown) => ({ value, confidence: null });

export function createLocalProvider(): AnalysisProvider {
  return {
    name: 'local',
    version: VERSION,
    describe: () => [
      {
        task: 'colours, quality, mood, hashes, EXIF, medium (photo / painting-or-drawing / digital-or-flat-graphic / unknown)',
        model: 'formulas on libvips samples',
        package: 'media-worker',
        version: VERSION,
        licence: 'project',
      },
    ],
    async analyse(input: AnalysisInput): Promise<ProviderReport> {
      const { image, role, original, removal } = input;
      const analysis = await analyseImage(image, { ...original, role }, removal);
      const hint = await mediumHint(image, role === 'logo');
      const { exif } = await sharp(original.path).metadata();
      const exifSummary = summariseExif(exif);
      return {
        fields: {
          dominant_colors: measured(analysis.dominantColors),
          quality_score: measured(analysis.qualityScore),
          mood_keywords: measured(analysis.moodKeywords),
          brand_colors: measured(analysis.brandColors),
          site_context: measured(analysis.siteContext),
          placeholder_hash: measured(analysis.placeholderHash),
          perceptual_hash: measured(analysis.perceptualHash),
          exif_summary: measured(exifSummary),
          medium_detected: { value: hint.value, confidence: hint.confidence },
        },
        raw: { ...analysis, exif: exifSummary, medium: hint },
        usedModels: false,
      };
    },
    close: () => Promise.resolve(),
  };
}
