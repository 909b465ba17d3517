/**
 * An item's analysis as the main API contract spells it (docs/main-api-contract.md):
 * the `analysis` of GET /api/media/analysis/{id} and the `ai_analysis` of
 * POST /api/media/complete/{id}, built here, once, from the typed analysis row.
 *
 * One null rule: a field without a value (a NULL column, or JSON that is
 * empty, unreadable or `null`) is null, except the lists `mood_keywords` and
 * `dominant_colors`, which are `[]`. The read-back sends every field that way;
 * the completion sends its own subset and leaves the null ones out (logos'
 * `brand_colors` are `[]` there rather than left out).
 */
import type { AnalysisRecord } from '../db/analysis-rows.js';

/** The `analysis` object of the read-back: every key always present. */
export interface ContractAnalysis {
  style: string | null;
  medium: string | null;
  subject_matter: string | null;
  quality_score: number | null;
  mood_keywords: unknown;
  brand_colors: unknown;
  site_context: unknown;
  dominant_colors: unknown;
  detected_objects: unknown;
  detected_text: unknown;
  faces: unknown;
  moderation: unknown;
  flagged: boolean | null;
  confidence_score: number | null;
  ai_enhanced: boolean;
  field_sources: unknown;
  placeholder_hash: string | null;
  perceptual_hash: string | null;
  exif: unknown;
  provider: string | null;
  provider_version: string | null;
  /** Additive (issue 19): what a vision-language provider wrote; null without one. */
  caption: string | null;
  alt_text: string | null;
  quality_assessment: unknown;
}

/** A value, or null when it has none (the mapper gives undefined for NULL or unreadable JSON). */
const orNull = (value: unknown): unknown => value ?? null;
/** A list field: `[]` when it has no value. */
const orEmpty = (value: unknown): unknown => value ?? [];

export function contractAnalysis(row: AnalysisRecord): ContractAnalysis {
  return {
    style: row.style_classification,
    medium: row.medium_detected,
    subject_matter: row.subject_matter,
    quality_score: row.quality_score,
    mood_keywords: orEmpty(row.mood_keywords),
    brand_colors: orNull(row.brand_colors),
    site_context: orNull(row.site_context),
    dominant_colors: orEmpty(row.dominant_colors),
    detected_objects: orNull(row.detected_objects),
    detected_text: orNull(row.detected_text),
    faces: orNull(row.faces),
    moderation: orNull(row.moderation),
    flagged: row.flagged,
    confidence_score: row.confidence_score,
    ai_enhanced: row.ai_enhanced,
    field_sources: orNull(row.field_sources),
    placeholder_hash: row.placeholder_hash,
    perceptual_hash: row.perceptual_hash,
    exif: orNull(row.exif_summary),
    provider: row.provider,
    provider_version: row.provider_version,
    caption: row.caption,
    alt_text: row.alt_text,
    quality_assessment: orNull(row.quality_assessment),
  };
}

/** The fields every completion carries (in this order), then the role's own. */
const COMPLETE_FIELDS = [
  'style',
  'medium',
  'subject_matter',
  'quality_score',
  'confidence_score',
  'mood_keywords',
  'dominant_colors',
  'detected_objects',
  'faces',
  'detected_text',
  'moderation',
  'flagged',
  'caption',
  'alt_text',
  'quality_assessment',
] as const satisfies ReadonlyArray<keyof ContractAnalysis>;

export interface CompleteAnalysisItem {
  role: string;
  /** Logos: whether bg=removed variants exist. */
  backgroundRemoved: boolean;
}

/** The `ai_analysis` object of the completion: fields without a value are left out. */
export function completeAnalysis(row: AnalysisRecord, item: CompleteAnalysisItem): Record<string, unknown> {
  const fields = contractAnalysis(row);
  const ai: Record<string, unknown> = Object.fromEntries(COMPLETE_FIELDS.map((name) => [name, fields[name]]));
  if (item.role === 'logo') {
    ai.brand_colors = orEmpty(fields.brand_colors);
    ai.background_removed = item.backgroundRemoved;
  }
  if (item.role === 'site') ai.site_context = fields.site_context;
  return Object.fromEntries(Object.entries(ai).filter(([, value]) => value !== null));
}
