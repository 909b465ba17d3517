/** The analysis half of the contract bodies (read-back and completion), from a stored analysis row. */
import { describe, expect, it } from 'vitest';
import { completeAnalysis, contractAnalysis } from '../../src/analysis/contract-body.js';
import { mergeAnalysis, type ProviderRun } from '../../src/analysis/merge-analysis.js';
import { toAnalysisRecord } from '../../src/db/analysis-rows.js';

/** What saveAnalysis stores for these runs, read back as the database returns it (flagged and ai_enhanced as 0/1). */
function storedRow(runs: ProviderRun[], overrides: Record<string, unknown> = {}) {
  const merged = mergeAnalysis(runs);
  const asStored: Record<string, unknown> = {
    style_classification: null,
    medium_detected: null,
    subject_matter: null,
    quality_score: null,
    dominant_colors: null,
    mood_keywords: null,
    detected_objects: null,
    detected_text: null,
    faces: null,
    moderation: null,
    brand_colors: null,
    site_context: null,
    exif_summary: null,
    placeholder_hash: null,
    perceptual_hash: null,
    caption: null,
    alt_text: null,
    quality_assessment: null,
    ...merged,
    flagged: merged.flagged === null ? null : Number(merged.flagged),
    ai_enhanced: Number(merged.ai_enhanced),
    media_id: '42',
    created_at: '1767225600000',
    updated_at: '1767225600000',
    ...overrides,
  };
  return toAnalysisRecord(asStored as Parameters<typeof toAnalysisRecord>[0]);
}

const local: ProviderRun = {
  provider: 'local',
  version: '0.1.0',
  report: {
    fields: {
      quality_score: { value: 0, confidence: null },
      dominant_colors: { value: [{ hex: '#101010', share: 1 }], confidence: null },
      brand_colors: { value: ['#101010'], confidence: null },
      site_context: { value: { placement: 'content', aspectRatio: 1.5 }, confidence: null },
      perceptual_hash: { value: 'ffff0000ffff0000', confidence: null },
      medium_detected: { value: 'photo', confidence: 0.6 },
    },
    raw: { from: 'local' },
    usedModels: false,
  },
};
const models: ProviderRun = {
  provider: 'models',
  version: '1',
  report: {
    fields: {
      subject_matter: { value: 'a cat', confidence: 0.9 },
      detected_objects: {
        value: [{ label: 'cat', score: 0.97, box: [0.1, 0.1, 0.6, 0.8] }],
        confidence: 0.97,
      },
      moderation: { value: { flagged: false, scores: { porn: 0.01 } }, confidence: 0.99 },
    },
    raw: { from: 'models' },
    usedModels: true,
  },
};

describe('contractAnalysis (GET /api/media/analysis)', () => {
  it('has every key: null without a value, [] for the lists', () => {
    expect(contractAnalysis(storedRow([{ ...local, report: { ...local.report, fields: {} } }]))).toEqual({
      style: null,
      medium: null,
      subject_matter: null,
      quality_score: null,
      mood_keywords: [],
      brand_colors: null,
      site_context: null,
      dominant_colors: [],
      detected_objects: null,
      detected_text: null,
      faces: null,
      moderation: null,
      flagged: null,
      confidence_score: null,
      ai_enhanced: false,
      field_sources: {},
      placeholder_hash: null,
      perceptual_hash: null,
      exif: null,
      provider: 'local',
      provider_version: expect.any(String),
      caption: null,
      alt_text: null,
      quality_assessment: null,
    });
  });

  it('gives the stored values their types', () => {
    const body = contractAnalysis(storedRow([local, models]));
    expect(body).toMatchObject({
      medium: 'photo',
      subject_matter: 'a cat',
      quality_score: 0,
      dominant_colors: [{ hex: '#101010', share: 1 }],
      detected_objects: [{ label: 'cat', score: 0.97, box: [0.1, 0.1, 0.6, 0.8] }],
      moderation: { flagged: false, scores: { porn: 0.01 } },
      flagged: false,
      ai_enhanced: true,
      confidence_score: 0.75,
      perceptual_hash: 'ffff0000ffff0000',
      provider: 'local,models',
    });
    expect(body.field_sources).toMatchObject({ subject_matter: { provider: 'models', confidence: 0.9 } });
  });
});

describe('completeAnalysis (POST /api/media/complete)', () => {
  const row = storedRow([local, models]);

  it('leaves fields without a value out, keeps 0 and false, and adds nothing of other roles', () => {
    expect(completeAnalysis(row, { role: 'product', backgroundRemoved: false })).toEqual({
      medium: 'photo',
      subject_matter: 'a cat',
      quality_score: 0,
      confidence_score: 0.75,
      mood_keywords: [],
      dominant_colors: [{ hex: '#101010', share: 1 }],
      detected_objects: [{ label: 'cat', score: 0.97, box: [0.1, 0.1, 0.6, 0.8] }],
      moderation: { flagged: false, scores: { porn: 0.01 } },
      flagged: false,
    });
  });

  it('adds brand colours and background removal for logos, site context for sites', () => {
    expect(completeAnalysis(row, { role: 'logo', backgroundRemoved: true })).toMatchObject({
      brand_colors: ['#101010'],
      background_removed: true,
    });
    const bare = storedRow([{ ...local, report: { ...local.report, fields: {} } }]);
    expect(completeAnalysis(bare, { role: 'logo', backgroundRemoved: false })).toEqual({
      mood_keywords: [],
      dominant_colors: [],
      brand_colors: [],
      background_removed: false,
    });
    expect(completeAnalysis(row, { role: 'site', backgroundRemoved: false }).site_context).toEqual({
      placement: 'content',
      aspectRatio: 1.5,
    });
    expect(completeAnalysis(bare, { role: 'site', backgroundRemoved: false })).not.toHaveProperty(
      'site_context',
    );
  });

  it('treats a JSON column holding null or unreadable text as no value: null in the read-back, left out of the completion', () => {
    const withNull = storedRow([local, models], { detected_objects: 'null', faces: '{not json' });
    expect(contractAnalysis(withNull)).toMatchObject({ detected_objects: null, faces: null });
    const ai = completeAnalysis(withNull, { role: 'event', backgroundRemoved: false });
    expect(ai).not.toHaveProperty('detected_objects');
    expect(ai).not.toHaveProperty('faces');
  });

  it("carries a vision-language provider's caption, alt text and quality judgement in both answers", () => {
    const openai: ProviderRun = {
      provider: 'openai',
      version: 'gpt-test/art-v1',
      report: {
        fields: {
          caption: { value: 'Two elephants painted in acrylic.', confidence: null },
          alt_text: { value: 'An acrylic painting of two grey elephants.', confidence: null },
          quality_assessment: {
            value: { score: 72, verdict: 'good', reasons: ['balanced composition'] },
            confidence: null,
          },
        },
        raw: {},
        usedModels: true,
      },
    };
    const withCaption = storedRow([local, openai]);
    const expected = {
      caption: 'Two elephants painted in acrylic.',
      alt_text: 'An acrylic painting of two grey elephants.',
      quality_assessment: { score: 72, verdict: 'good', reasons: ['balanced composition'] },
    };
    expect(contractAnalysis(withCaption)).toMatchObject(expected);
    expect(completeAnalysis(withCaption, { role: 'artwork', backgroundRemoved: false })).toMatchObject(
      expected,
    );
    expect(completeAnalysis(row, { role: 'artwork', backgroundRemoved: false })).not.toHaveProperty(
      'caption',
    );
  });
});
