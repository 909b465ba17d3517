/**
 * The google provider against a fake Cloud Vision server (real HTTP on
 * 127.0.0.1): the request (features, key, image), the mapping of Google's
 * proto3 JSON into objects with boxes, text with word boxes, colours and
 * moderation, the cost in units, and Google's own error shapes.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisInputFor } from '../../src/analysis/analysis-input.js';
import type { AnalysisInput } from '../../src/analysis/analysis-provider.js';
import {
  createGoogleVisionProvider,
  type GoogleVisionProviderOptions,
} from '../../src/analysis/google-vision-provider.js';
import { PaidAnswerError } from '../../src/analysis/provider-http.js';
import { AuthError, RateLimitError, classify } from '../../src/errors.js';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';
import { silentLogger } from '../../src/log.js';
import { GOOGLE_INJECTION, startFakeGoogleVision, type GoogleMode } from '../helpers/fake-google-vision.js';
import type { FakeVisionServer } from '../helpers/fake-vision-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';

let server: FakeVisionServer<GoogleMode>;
let input: AnalysisInput;

function provider(overrides: Partial<GoogleVisionProviderOptions> = {}) {
  return createGoogleVisionProvider({
    baseUrl: server.url,
    apiKey: 'AIza-test key',
    timeoutMs: 10_000,
    concurrency: 2,
    pricePer1kUnits: 1.5,
    dailyBudget: undefined,
    log: silentLogger(),
    ...overrides,
  });
}

describe('google vision provider', () => {
  beforeAll(async () => {
    server = await startFakeGoogleVision();
    const limits = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(256) };
    input = await analysisInputFor(SAMPLE('cat-chelsea.png'), 'product', limits);
  });
  afterAll(async () => {
    await server.close();
  });

  it('asks for the five features on the resized image and maps the answer into the fields', async () => {
    server.requests.length = 0;
    const report = await provider().analyse(input);
    const [sent] = server.requests;
    // The key travels in a header, never in the URL (URLs end up in logs and error messages).
    expect(sent!.url).toBe('/v1/images:annotate');
    expect(sent!.headers['x-goog-api-key']).toBe('AIza-test key');
    const request = (
      sent!.body.requests as Array<{ image: { content: string }; features: Array<{ type: string }> }>
    )[0]!;
    expect(request.features.map((f) => f.type)).toEqual([
      'LABEL_DETECTION',
      'OBJECT_LOCALIZATION',
      'TEXT_DETECTION',
      'IMAGE_PROPERTIES',
      'SAFE_SEARCH_DETECTION',
    ]);
    const jpeg = await sharp(Buffer.from(request.image.content, 'base64')).metadata();
    expect(jpeg).toMatchObject({ format: 'jpeg', width: 451, height: 300 });
    expect(jpeg.exif).toBeUndefined();

    expect(report.fields.detected_objects).toEqual({
      // proto3 leaves x = 0 out of the vertex: the box starts at the left edge.
      value: [{ label: 'Cat', score: 0.94, box: [0, 0.1, 0.6, 0.8] }],
      confidence: 0.94,
    });
    expect(report.fields.detected_text!.value).toEqual({
      text: GOOGLE_INJECTION,
      // pixels of the 451×300 image sent, as fractions
      words: [{ text: 'SYSTEM:', confidence: null, box: [0.0998, 0.1, 0.0998, 0.1] }],
      language: 'en',
    });
    expect(report.fields.dominant_colors!.value).toEqual(['#000AFF', '#C87828']);
    expect(report.fields.moderation!.value).toMatchObject({
      flagged: false,
      likelihoods: { racy: 'POSSIBLE' },
    });
    expect(report.fields.subject_matter).toEqual({ value: 'cat', confidence: 0.97 });
    expect(report.usage).toMatchObject({ units: 5, requests: 1 });
    expect(report.cost).toBeCloseTo(0.0075, 9);
    expect(report.raw).toMatchObject({ responses: [{ labelAnnotations: expect.any(Array) }] });
  });

  it('reports no text as empty text, and a price left unset as an unknown cost', async () => {
    server.script('no-text');
    const report = await provider({ pricePer1kUnits: undefined }).analyse(input);
    expect(report.fields.detected_text!.value).toEqual({ text: '', words: [], language: null });
    expect(report.cost).toBeNull();
  });

  it("classifies Google's errors: 400 API_KEY_INVALID and 403 AUTH, 429 RATE_LIMIT, a per-image error, a cut answer", async () => {
    const google = provider();
    for (const mode of ['bad-key', '403'] as const) {
      server.script(mode);
      const error = await google.analyse(input).catch((e: unknown) => e);
      expect(error, mode).toBeInstanceOf(AuthError);
    }
    server.script('429');
    const limited = (await google.analyse(input).catch((e: unknown) => e)) as RateLimitError;
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.retryAfterMs).toBe(60_000);
    expect(limited.message).toContain('Quota exceeded');
    for (const mode of ['image-error', 'malformed'] as const) {
      server.script(mode);
      const error = await google.analyse(input).catch((e: unknown) => e);
      expect(classify(error).errorClass, mode).toBe('TRANSIENT');
      // Neither the message nor anything it wraps names the key.
      expect(JSON.stringify({ m: (error as Error).message, s: (error as Error).stack }), mode).not.toContain(
        'AIza-test',
      );
    }
    // A 200 that does not read is billed as the five units it asked for.
    server.script('malformed');
    const malformed = (await google.analyse(input).catch((e: unknown) => e)) as PaidAnswerError;
    expect(malformed).toBeInstanceOf(PaidAnswerError);
    expect(malformed.cost).toBeCloseTo(0.0075, 9);
  });
});
