/**
 * The openai provider against a fake OpenAI-compatible server (real HTTP on
 * 127.0.0.1): what it sends, how it reads good, fenced, off-schema and
 * hostile answers, how it classifies 401/429/500, and that it never follows
 * a redirect, never takes an oversized answer, waits for its concurrency
 * slot and stops on the step's abort signal.
 */
import sharp from 'sharp';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisInputFor } from '../../src/analysis/analysis-input.js';
import type { AnalysisInput } from '../../src/analysis/analysis-provider.js';
import {
  createOpenAiProvider,
  estimatedTokens,
  tokenLimitParam,
  type OpenAiProviderOptions,
} from '../../src/analysis/openai-provider.js';
import { PaidAnswerError, ProviderRequestError, parseRetryAfter } from '../../src/analysis/provider-http.js';
import { AuthError, RateLimitError, classify, codeInChain } from '../../src/errors.js';
import { ImageMemoryBudget } from '../../src/images/memory-budget.js';
import { silentLogger } from '../../src/log.js';
import { GOOD_DESCRIPTION, INJECTION, USAGE, startFakeOpenAi } from '../helpers/fake-openai.js';
import type { FakeVisionServer } from '../helpers/fake-vision-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import type { OpenAiMode } from '../helpers/fake-openai.js';

let server: FakeVisionServer<OpenAiMode>;
let input: AnalysisInput;

beforeAll(async () => {
  const limits = { maxInputPixels: 100_000_000, memory: new ImageMemoryBudget(256) };
  input = await analysisInputFor(SAMPLE('cat-chelsea.png'), 'product', limits);
});

function provider(overrides: Partial<OpenAiProviderOptions> = {}) {
  return createOpenAiProvider({
    baseUrl: `${server.url}/v1`,
    apiKey: 'sk-test',
    model: 'gpt-4o-mini',
    apiStyle: 'openai',
    apiVersion: '2024-10-21',
    responseFormat: 'json_schema',
    timeoutMs: 10_000,
    concurrency: 2,
    pricePer1kInput: 0.15,
    pricePer1kOutput: 0.6,
    dailyBudget: undefined,
    log: silentLogger(),
    ...overrides,
  });
}

/** A logger whose lines are kept, to check what was (and was not) logged. */
function recordingLogger() {
  const lines: string[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }), lines };
}

describe('openai provider', () => {
  beforeAll(async () => {
    server = await startFakeOpenAi();
  });
  afterAll(async () => {
    await server.close();
  });

  it('posts the resized, metadata-free image as a data URL with a strict JSON schema, and maps the answer', async () => {
    server.requests.length = 0;
    const report = await provider().analyse(input);
    const [sent] = server.requests;
    expect(sent).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(sent!.headers.authorization).toBe('Bearer sk-test');
    expect(sent!.body).toMatchObject({
      model: 'gpt-4o-mini',
      response_format: { type: 'json_schema', json_schema: { strict: true, name: 'image_description' } },
    });
    const user = (sent!.body.messages as Array<{ role: string; content: unknown }>)[1]!;
    const image = (user.content as Array<{ type: string; image_url?: { url: string } }>).find(
      (part) => part.type === 'image_url',
    )!;
    expect(image.image_url!.url.startsWith('data:image/jpeg;base64,')).toBe(true);
    const jpeg = await sharp(Buffer.from(image.image_url!.url.split(',')[1]!, 'base64')).metadata();
    expect(jpeg).toMatchObject({ format: 'jpeg', width: 451, height: 300 });
    expect(jpeg.exif).toBeUndefined();
    expect(jpeg.icc).toBeUndefined();

    expect(report.fields).toMatchObject({
      medium_detected: { value: 'painting', confidence: 0.92 },
      style_classification: { value: 'impressionism', confidence: 0.8 },
      subject_matter: { value: 'a cat on a windowsill', confidence: 0.88 },
      mood_keywords: { value: ['calm', 'warm'] },
      quality_score: { value: 78 },
      quality_assessment: {
        value: { score: 78, verdict: 'good', reasons: GOOD_DESCRIPTION.quality.reasons },
      },
      caption: { value: GOOD_DESCRIPTION.caption },
      alt_text: { value: GOOD_DESCRIPTION.alt_text },
      detected_text: { value: { text: '', words: [], language: null } },
    });
    expect(report.version).toBe('gpt-4o-mini-2024-07-18');
    expect(report.usage).toMatchObject({ input_tokens: 1200, output_tokens: 150, requests: 1 });
    // 1.2 × 0.15 + 0.15 × 0.6
    expect(report.cost).toBeCloseTo(
      (USAGE.prompt_tokens / 1000) * 0.15 + (USAGE.completion_tokens / 1000) * 0.6,
      9,
    );
  });

  it('speaks Azure: api-key header and api-version on the deployment URL', async () => {
    server.requests.length = 0;
    await provider({ apiStyle: 'azure', baseUrl: `${server.url}/openai/deployments/vision` }).analyse(input);
    const [sent] = server.requests;
    expect(sent!.url).toBe('/openai/deployments/vision/chat/completions?api-version=2024-10-21');
    expect(sent!.headers['api-key']).toBe('sk-test');
    expect(sent!.headers.authorization).toBeUndefined();
  });

  it('reads JSON from a fence or from prose when the server has no json_schema support', async () => {
    server.requests.length = 0;
    server.script('fenced', 'prose');
    const openai = provider({ responseFormat: 'none', pricePer1kInput: undefined });
    const fenced = await openai.analyse(input);
    const prose = await openai.analyse(input);
    expect(server.requests[0]!.body.response_format).toBeUndefined();
    for (const report of [fenced, prose])
      expect(report.fields.medium_detected).toEqual({ value: 'painting', confidence: 0.92 });
    expect(fenced.cost).toBeNull();
  });

  it('drops off-schema and invalid fields with one warning per field name, and keeps the valid ones', async () => {
    const { log, lines } = recordingLogger();
    const openai = provider({ log });
    server.script('off-schema', 'off-schema');
    const report = await openai.analyse(input);
    await openai.analyse(input);
    expect(report.fields.medium_detected).toBeUndefined();
    expect(report.fields.mood_keywords).toBeUndefined();
    expect(report.fields.quality_score).toBeUndefined();
    expect(report.fields.style_classification).toEqual({ value: 'impressionism', confidence: null });
    expect(report.fields.subject_matter).toMatchObject({ value: 'a cat on a windowsill' });
    const dropped = lines.map((line) => (JSON.parse(line) as { field?: string }).field);
    expect(dropped.sort()).toEqual(
      ['medium', 'mood', 'next_instructions_for_you', 'quality', 'style_confidence', 'system_prompt'].sort(),
    );
  });

  it('keeps a prompt injection in the image text as data: stored in its field, never logged', async () => {
    const { log, lines } = recordingLogger();
    server.script('injection');
    const report = await provider({ log }).analyse(input);
    expect(report.fields.detected_text!.value).toEqual({ text: INJECTION, words: [], language: null });
    expect(report.fields.medium_detected!.value).toBe('painting');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"field":"instructions"');
    expect(lines.join('\n')).not.toContain('IGNORE ALL PREVIOUS');
  });

  it('classifies failures: 401 AUTH, 429 RATE_LIMIT with Retry-After, refusals and non-JSON answers', async () => {
    const openai = provider();
    server.script('401');
    const auth = await openai.analyse(input).catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(AuthError);
    expect((auth as Error).message).toContain('Incorrect API key provided');

    server.script('429');
    const limited = await openai.analyse(input).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(120_000);

    server.script('429-date');
    const dated = (await openai.analyse(input).catch((e: unknown) => e)) as RateLimitError;
    expect(dated.retryAfterMs).toBeGreaterThan(200_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(300_000);

    for (const mode of ['refusal', 'not-json', 'html'] as const) {
      server.script(mode);
      const failed = await openai.analyse(input).catch((e: unknown) => e);
      expect(classify(failed).errorClass, mode).toBe('TRANSIENT');
    }
  });

  it('waits out a short Retry-After, but never sends again what may have been billed (a 500, a reset)', async () => {
    server.requests.length = 0;
    server.script('429-short', 'good');
    const report = await provider().analyse(input);
    expect(server.requests).toHaveLength(2);
    expect(report.usage).toMatchObject({ requests: 2 });

    for (const mode of ['500', 'reset'] as const) {
      server.requests.length = 0;
      server.script(mode);
      const failed = await provider()
        .analyse(input)
        .catch((e: unknown) => e);
      expect(classify(failed).errorClass, mode).toBe('TRANSIENT');
      expect(server.requests, mode).toHaveLength(1);
    }
  });

  it('retries a connection that was refused (it never reached a server), then fails the call', async () => {
    const closed = await startFakeOpenAi();
    const url = closed.url;
    await closed.close();
    const failed = await provider({ baseUrl: `${url}/v1` })
      .analyse(input)
      .catch((e: unknown) => e);
    expect(codeInChain(failed)).toBe('ECONNREFUSED');
  });

  it('classifies a 400 (a parameter the model refuses) as the request’s problem, not TRANSIENT, and asks once', async () => {
    server.requests.length = 0;
    server.script('400-param');
    const failed = await provider()
      .analyse(input)
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ProviderRequestError);
    expect(classify(failed).errorClass).not.toBe('TRANSIENT');
    expect((failed as Error).message).toContain('max_completion_tokens');
    expect(server.requests).toHaveLength(1);
  });

  it('names the token limit by API style or setting, and sends a temperature only when configured', async () => {
    server.requests.length = 0;
    await provider().analyse(input);
    await provider({ tokenLimitParam: 'max_completion_tokens', temperature: 0.2 }).analyse(input);
    await provider({ tokenLimitParam: 'none' }).analyse(input);
    const [local, configured, none] = server.requests.map((r) => r.body);
    // 127.0.0.1 is a self-hosted server: max_tokens; no temperature unless set.
    expect(local).toMatchObject({ max_tokens: 1000 });
    expect(local).not.toHaveProperty('temperature');
    expect(local).not.toHaveProperty('max_completion_tokens');
    expect(configured).toMatchObject({ max_completion_tokens: 1000, temperature: 0.2 });
    expect(configured).not.toHaveProperty('max_tokens');
    expect(none).not.toHaveProperty('max_tokens');
    expect(none).not.toHaveProperty('max_completion_tokens');
    const auto = { tokenLimitParam: 'auto' as const };
    expect(tokenLimitParam({ ...auto, apiStyle: 'openai', baseUrl: 'https://api.openai.com/v1' })).toBe(
      'max_completion_tokens',
    );
    expect(tokenLimitParam({ ...auto, apiStyle: 'azure', baseUrl: 'https://r.openai.azure.com/x' })).toBe(
      'max_completion_tokens',
    );
    expect(tokenLimitParam({ ...auto, apiStyle: 'openai', baseUrl: 'http://127.0.0.1:11434/v1' })).toBe(
      'max_tokens',
    );
  });

  it('prices a paid 2xx that cannot be used (a refusal, prose, an oversized body): the error carries the cost', async () => {
    const call = (USAGE.prompt_tokens / 1000) * 0.15 + (USAGE.completion_tokens / 1000) * 0.6;
    for (const mode of ['refusal', 'not-json'] as const) {
      server.script(mode);
      const failed = await provider()
        .analyse(input)
        .catch((e: unknown) => e);
      expect(failed, mode).toBeInstanceOf(PaidAnswerError);
      expect((failed as PaidAnswerError).cost, mode).toBeCloseTo(call, 9);
      expect((failed as PaidAnswerError).usage, mode).toMatchObject({ input_tokens: 1200, requests: 1 });
      expect((failed as PaidAnswerError).costEstimated, mode).toBe(false);
    }
    // No usage can be read from an oversized body: an estimate, marked so.
    server.script('huge');
    const huge = (await provider()
      .analyse(input)
      .catch((e: unknown) => e)) as PaidAnswerError;
    expect(huge).toBeInstanceOf(PaidAnswerError);
    expect(huge.cost).toBeGreaterThan(0);
    expect(huge.costEstimated).toBe(true);
  });

  it('estimates the cost of an answer without usage when prices are set, and marks it estimated', async () => {
    server.script('no-usage', 'no-usage');
    const report = await provider().analyse(input);
    const tokens = estimatedTokens(451, 300);
    expect(report.cost).toBeCloseTo(
      (tokens.input_tokens / 1000) * 0.15 + (tokens.output_tokens / 1000) * 0.6,
      9,
    );
    expect(report.costEstimated).toBe(true);
    const unpriced = await provider({ pricePer1kInput: undefined }).analyse(input);
    expect(unpriced.cost).toBeNull();
    expect(unpriced.costEstimated).toBeUndefined();
  });

  it('follows no redirect and refuses an oversized answer', async () => {
    server.script('redirect');
    const redirected = await provider()
      .analyse(input)
      .catch((e: unknown) => e);
    expect((redirected as Error).message).toContain('302');
    server.requests.length = 0;
    server.script('huge');
    const huge = await provider()
      .analyse(input)
      .catch((e: unknown) => e);
    expect((huge as Error).message).toBe(`openai answered more than ${1024 * 1024} bytes`);
    // The oversized answer was complete, and paid for: not asked again.
    expect(server.requests).toHaveLength(1);
  });

  it('holds to its concurrency cap and stops waiting when the step is aborted', async () => {
    server.requests.length = 0;
    const openai = provider({ concurrency: 1 });
    server.script('slow', 'slow', 'slow');
    await Promise.all([openai.analyse(input), openai.analyse(input), openai.analyse(input)]);
    expect(server.requests).toHaveLength(3);
    expect(server.maxInFlight()).toBe(1);

    server.script('hang');
    const controller = new AbortController();
    const pending = openai.analyse({ ...input, signal: controller.signal }).catch((e: unknown) => e);
    // A second call waits for the slot the hung one holds; the abort ends both waits.
    const queued = openai.analyse({ ...input, signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('lease lost'));
    expect(((await pending) as Error).message).toMatch(/cancel|abort|lease lost/i);
    expect(((await queued) as Error).message).toBe('lease lost');
    server.release();
  });

  it('gives up a call after OPENAI_TIMEOUT_MS and does not send it again (the server may bill it)', async () => {
    server.requests.length = 0;
    server.script('hang', 'hang', 'hang');
    const failed = await provider({ timeoutMs: 200 })
      .analyse(input)
      .catch((e: unknown) => e);
    expect((failed as Error).message).toMatch(/timeout of 200ms exceeded/);
    expect(classify(failed).errorClass).toBe('TRANSIENT');
    expect(server.requests).toHaveLength(1);
    server.release();
  });

  it('reads Retry-After as seconds or an HTTP date, capped at 10 minutes', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('86400', now)).toBe(600_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
