/**
 * The media_ai_analysis row as the code outside db/ reads it: numbers and
 * booleans converted and JSON columns parsed, once, by one mapper. JSON
 * columns hold what the providers reported (analysis/merge-analysis.ts), so
 * they stay `unknown`; undefined means NULL or unreadable.
 */
import {
  parseJson,
  readColumns,
  toBoolean,
  toBooleanOrNull,
  toNumber,
  toNumberOrNull,
  toTextOrNull,
  type ColumnReaders,
  type RawRow,
} from './row-values.js';

export interface AnalysisRecord {
  media_id: number;
  style_classification: string | null;
  medium_detected: string | null;
  subject_matter: string | null;
  quality_score: number | null;
  confidence_score: number | null;
  mood_keywords: unknown;
  dominant_colors: unknown;
  detected_objects: unknown;
  detected_text: unknown;
  faces: unknown;
  moderation: unknown;
  brand_colors: unknown;
  site_context: unknown;
  exif_summary: unknown;
  field_sources: unknown;
  flagged: boolean | null;
  ai_enhanced: boolean;
  placeholder_hash: string | null;
  perceptual_hash: string | null;
  provider: string | null;
  provider_version: string | null;
  /** From a vision-language provider (openai): a one-sentence caption, alt text, and a quality judgement with reasons. */
  caption: string | null;
  alt_text: string | null;
  quality_assessment: unknown;
  created_at: number;
  updated_at: number;
}

const ANALYSIS_READERS: ColumnReaders<AnalysisRecord> = {
  media_id: toNumber,
  style_classification: toTextOrNull,
  medium_detected: toTextOrNull,
  subject_matter: toTextOrNull,
  quality_score: toNumberOrNull,
  confidence_score: toNumberOrNull,
  mood_keywords: parseJson,
  dominant_colors: parseJson,
  detected_objects: parseJson,
  detected_text: parseJson,
  faces: parseJson,
  moderation: parseJson,
  brand_colors: parseJson,
  site_context: parseJson,
  exif_summary: parseJson,
  field_sources: parseJson,
  flagged: toBooleanOrNull,
  ai_enhanced: toBoolean,
  placeholder_hash: toTextOrNull,
  perceptual_hash: toTextOrNull,
  provider: toTextOrNull,
  provider_version: toTextOrNull,
  caption: toTextOrNull,
  alt_text: toTextOrNull,
  quality_assessment: parseJson,
  created_at: toNumber,
  updated_at: toNumber,
};

/**
 * The media_ai_analysis mapper. raw_responses (the providers' answers, kept
 * for diagnosis, never read back) is left out and not parsed.
 */
export function toAnalysisRecord(raw: RawRow<AnalysisRecord>): AnalysisRecord {
  return readColumns(ANALYSIS_READERS, raw);
}
