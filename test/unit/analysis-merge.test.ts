/** Pure parts of analysis: merging provider reports, the remote answer's validation, the OCR word filter, settings. */
import { describe, expect, it } from 'vitest';
import { mergeAnalysis } from '../../src/analysis/merge-analysis.js';
import { isPlausibleWord } from '../../src/analysis/models/text-reader.js';
import { parseRemoteAnswer } from '../../src/analysis/remote-provider.js';
import { fraction, providerList } from '../../src/config-parsers.js';

describe('mergeAnalysis', () => {
  const local = {
    provider: 'local' as const,
    version: '0.1.0',
    report: {
      fields: {
        quality_score: { value: 71, confidence: null },
        medium_detected: { value: 'photo', confidence: 0.6 },
        dominant_colors: { value: ['#101010'], confidence: null },
      },
      raw: { from: 'local' },
      usedModels: false,
    },
  };
  const models = {
    provider: 'models' as const,
    version: '1',
    report: {
      fields: {
        medium_detected: { value: 'digital-or-flat-graphic', confidence: 0.8 },
        subject_matter: { value: 'animals', confidence: 0.5 },
        moderation: { value: { flagged: true, scores: { porn: 0.9 } }, confidence: 0.9 },
      },
      raw: { from: 'models' },
      usedModels: true,
    },
  };

  it('lets a later provider replace a field and records who reported each one', () => {
    const row = mergeAnalysis([local, models]);
    expect(row.medium_detected).toBe('digital-or-flat-graphic');
    expect(row.quality_score).toBe(71);
    expect(row.dominant_colors).toBe('["#101010"]');
    expect(JSON.parse(row.field_sources as string)).toMatchObject({
      medium_detected: { provider: 'models', version: '1', confidence: 0.8 },
      quality_score: { provider: 'local', version: '0.1.0', confidence: null },
    });
    expect(JSON.parse(row.raw_responses as string)).toEqual({
      local: { from: 'local' },
      models: { from: 'models' },
    });
    expect(row).toMatchObject({
      ai_enhanced: true,
      flagged: true,
      provider: 'local,models',
      confidence_score: 0.65,
    });
  });

  it('is not ai_enhanced when only the local measurements ran', () => {
    expect(mergeAnalysis([local])).toMatchObject({
      ai_enhanced: false,
      flagged: null,
      confidence_score: 0.6,
    });
  });
});

describe('parseRemoteAnswer', () => {
  it('turns a valid answer into fields', () => {
    const parsed = parseRemoteAnswer({
      version: 'vision-7',
      objects: [{ label: 'cat', score: 0.93, box: [0.1, 0.1, 0.5, 0.5] }],
      text: 'OPEN',
      labels: { medium: { value: 'photo', confidence: 0.99 } },
      moderation: { flagged: false, scores: { adult: 0.01 } },
    });
    expect(parsed.version).toBe('vision-7');
    expect(parsed.fields.detected_objects?.value).toEqual([
      { label: 'cat', score: 0.93, box: [0.1, 0.1, 0.5, 0.5] },
    ]);
    expect(parsed.fields.medium_detected).toEqual({ value: 'photo', confidence: 0.99 });
    expect(parsed.fields.moderation?.value).toEqual({ flagged: false, scores: { adult: 0.01 } });
  });

  it.each([
    [[], 'not a JSON object'],
    [{ objects: {} }, 'objects must be an array'],
    [{ objects: [{ label: 'cat', score: 3 }] }, 'objects[0].score must be a number 0–1'],
    [{ objects: [{ label: 'cat', score: 0.5, box: [1, 2] }] }, 'objects[0].box'],
    [{ labels: { mood: { value: 'x', confidence: 1 } } }, 'labels.mood is not one of'],
    [{ moderation: { flagged: 'no' } }, 'moderation.flagged must be a boolean'],
  ])('names the problem in %j', (answer, problem) => {
    expect(() => parseRemoteAnswer(answer)).toThrow(problem);
  });
});

describe('OCR word filter', () => {
  it.each([
    ['STREET', 96, true],
    ['Market', 85, true],
    ['ARK', 70, false],
    ['=>', 95, false],
    ['7/', 90, false],
    ['123', 95, false],
    ['Ca!', 90, false],
  ])('%s at %d → %s', (text, confidence, expected) => {
    expect(isPlausibleWord(text, confidence)).toBe(expected);
  });
});

describe('analysis settings', () => {
  it('accepts known providers once each, in order', () => {
    expect(providerList('local, Models')).toEqual(['local', 'models']);
    expect(() => providerList('local,vision')).toThrow(
      'must list providers among local, models, remote, openai, google (got "local,vision")',
    );
    expect(() => providerList('local,local')).toThrow('names a provider twice');
  });

  it('takes a moderation threshold in (0, 1]', () => {
    expect(fraction('0.7')).toBe(0.7);
    expect(() => fraction('1.5')).toThrow('at most 1');
    expect(() => fraction('')).toThrow('above 0');
  });
});
