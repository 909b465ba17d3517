/**
 * Merges provider reports into one media_ai_analysis row. Providers are
 * merged in the configured order and a later provider's value for a field
 * replaces an earlier one's (local, then models, then remote: the more
 * specialised opinion wins). Every field keeps where it came from.
 */
import { VERSION } from '../version.js';
import type { AnalysisField, ProviderName, ProviderReport } from './analysis-provider.js';

export interface ProviderRun {
  provider: ProviderName;
  version: string;
  report: ProviderReport;
}

export interface FieldSource {
  provider: ProviderName;
  version: string;
  confidence: number | null;
}

/** Columns holding plain values; every other field is stored as JSON text. */
const SCALAR_COLUMNS: Partial<Record<AnalysisField, number>> = {
  quality_score: 0,
  placeholder_hash: 64,
  perceptual_hash: 16,
  medium_detected: 100,
  subject_matter: 255,
  style_classification: 100,
  caption: 300,
  alt_text: 500,
};
/** Labels whose confidences make the row's overall confidence_score. */
const CLASSIFICATIONS: AnalysisField[] = ['medium_detected', 'subject_matter', 'style_classification'];

function column(field: AnalysisField, value: unknown): unknown {
  const limit = SCALAR_COLUMNS[field];
  if (limit === undefined) return value === undefined || value === null ? null : JSON.stringify(value);
  if (typeof value === 'string' && limit > 0) return value.slice(0, limit);
  return value ?? null;
}

export function mergeAnalysis(runs: readonly ProviderRun[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const sources: Partial<Record<AnalysisField, FieldSource>> = {};
  for (const { provider, version, report } of runs) {
    for (const [field, reported] of Object.entries(report.fields) as [
      AnalysisField,
      { value: unknown; confidence: number | null },
    ][]) {
      if (reported.value === undefined || reported.value === null) continue;
      row[field] = column(field, reported.value);
      sources[field] = { provider, version, confidence: reported.confidence };
    }
  }
  const confidences = CLASSIFICATIONS.map((field) => sources[field]?.confidence).filter(
    (value): value is number => typeof value === 'number',
  );
  const moderation = runs.map((run) => run.report.fields.moderation?.value).findLast((value) => value);
  return {
    ...row,
    confidence_score: confidences.length
      ? Math.round((confidences.reduce((a, b) => a + b, 0) / confidences.length) * 1000) / 1000
      : null,
    flagged: moderation ? Boolean((moderation as { flagged?: boolean }).flagged) : null,
    field_sources: JSON.stringify(sources),
    raw_responses: JSON.stringify(Object.fromEntries(runs.map((run) => [run.provider, run.report.raw]))),
    ai_enhanced: runs.some((run) => run.report.usedModels),
    provider: runs.map((run) => run.provider).join(','),
    provider_version: VERSION,
  };
}
