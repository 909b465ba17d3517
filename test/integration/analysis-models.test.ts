/**
 * The models provider on real photos, offline: every model loads from
 * node_modules (the test machine reaches no network). What a person would
 * check by eye: an animal in the cat photo, the sign's words read, the logo
 * seen as a logo, no text invented for photos without any.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisInputFor } from '../../src/analysis/analysis-input.js';
import { createModelsProvider } from '../../src/analysis/models/models-provider.js';
import { describeModels } from '../../src/analysis/models/model-packages.js';
import type { ModelResult } from '../../src/analysis/models/model-protocol.js';
import type { ReadText } from '../../src/analysis/models/text-reader.js';
import type { AnalysisProvider, ProviderReport } from '../../src/analysis/analysis-provider.js';
import { silentLogger } from '../../src/log.js';
import type { Role } from '../../src/media-roles.js';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';
import { SAMPLE } from '../helpers/image-fixtures.js';

/** Decoded as the analyse step decodes (the default pixel limit and memory budget). */
const LIMITS = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(128) };

async function analyse(
  provider: AnalysisProvider,
  name: string,
  role: Role = 'product',
): Promise<ProviderReport> {
  return provider.analyse(await analysisInputFor(SAMPLE(name), role, LIMITS));
}

const textOf = (report: ProviderReport) => report.fields.detected_text?.value as ReadText;
const labels = (report: ProviderReport) =>
  ((report.fields.detected_objects?.value ?? []) as { label: string }[]).map((o) => o.label);

describe('models provider (offline models from node_modules)', () => {
  let provider: AnalysisProvider;
  const reports: Record<string, ProviderReport> = {};

  beforeAll(async () => {
    provider = createModelsProvider({ moderationThreshold: 0.7, log: silentLogger() });
    reports.cat = await analyse(provider, 'cat-chelsea.png');
    reports.coffee = await analyse(provider, 'coffee-cup.png');
    reports.sign = await analyse(provider, 'market-street-sign.jpg', 'event');
    reports.logo = await analyse(provider, 'scikit-image-logo.png', 'logo');
    reports.handwriting = await analyse(provider, 'street-sign-text.png');
  }, 180_000);

  afterAll(() => provider.close());

  it('has every model installed (they are optional dependencies of this project)', () => {
    expect(describeModels().filter((model) => model.unavailable)).toEqual([]);
  });

  it('finds an animal in the cat photo', () => {
    expect(labels(reports.cat!).some((label) => ['cat', 'dog', 'bear', 'sheep'].includes(label))).toBe(true);
    expect(reports.cat!.fields.subject_matter?.value).toMatch(/animals/);
    expect(reports.cat!.usedModels).toBe(true);
  });

  it('finds the cup in the coffee photo and calls it food & drink', () => {
    expect(labels(reports.coffee!)).toContain('cup');
    expect(reports.coffee!.fields.subject_matter?.value).toMatch(/food & drink/);
  });

  it("reads the sign's words", () => {
    const words = textOf(reports.sign!).words.map((word) => word.text.toLowerCase());
    expect(words).toContain('street');
    expect(reports.sign!.fields.subject_matter?.value).toMatch(/text/);
  });

  it('reports no text for photos without any', () => {
    expect(textOf(reports.cat!)).toMatchObject({ text: '', words: [] });
    expect(textOf(reports.coffee!)).toMatchObject({ text: '', words: [] });
  });

  it('classifies the logo as a logo / flat graphic, the coffee photo as a photo, and says unknown for the cat', () => {
    expect(reports.logo!.fields.medium_detected?.value).toBe('logo');
    expect(reports.logo!.fields.style_classification?.value).toBe('flat graphic');
    expect(reports.coffee!.fields.medium_detected?.value).toBe('photo');
    expect(reports.coffee!.fields.style_classification?.value).toMatch(/photograph/);
    // A soft close-up: too few edges for the photo region (docs/analysis-medium.md), so no guess.
    expect(reports.cat!.fields.medium_detected).toEqual({ value: 'unknown', confidence: 0 });
  });

  it('scores moderation and flags none of the samples', () => {
    for (const report of Object.values(reports)) {
      const moderation = report.fields.moderation?.value as {
        flagged: boolean;
        scores: Record<string, number>;
      };
      expect(Object.keys(moderation.scores).sort()).toEqual(['drawing', 'hentai', 'neutral', 'porn', 'sexy']);
      expect(moderation.flagged).toBe(false);
    }
  });

  it('gives every label a confidence between 0 and 1', () => {
    for (const field of ['medium_detected', 'subject_matter', 'style_classification'] as const) {
      const confidence = reports.coffee!.fields[field]?.confidence;
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
    }
  });

  it('disposes every tensor: the live count is the same after more images', async () => {
    const before = (reports.handwriting!.raw as ModelResult).tensors;
    for (let i = 0; i < 3; i++) await analyse(provider, 'coffee-cup.png');
    const after = (await analyse(provider, 'cat-chelsea.png')).raw as ModelResult;
    expect(after.tensors).toBe(before);
  }, 60_000);
});
