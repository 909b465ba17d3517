/**
 * The paid providers through the real analyse step and worker loop, with
 * fake OpenAI and Google Vision servers on 127.0.0.1 and a real SQLite
 * database: per-field merge order, the cost per call and per item (status
 * view and metrics), the cache on a duplicate upload, `reanalyse` through
 * the built CLI, the daily budget counted from the database, an AUTH pause
 * that skips only that provider, and `doctor` showing it all.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviders, closeProviders } from '../../src/analysis/configured-providers.js';
import { loadConfig } from '../../src/config.js';
import { findItemView, type ItemView } from '../../src/db/item-view.js';
import { findAnalysis } from '../../src/db/media-outputs.js';
import { activePause, pauseProvider, recordSpend, utcDay } from '../../src/db/provider-spend.js';
import { findMedia } from '../../src/db/records.js';
import { parseJson } from '../../src/db/row-values.js';
import { createImageRuntime } from '../../src/images/image-runtime.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { buildPipeline } from '../../src/pipeline.js';
import type { Role } from '../../src/media-roles.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { startFakeGoogleVision, type GoogleMode } from '../helpers/fake-google-vision.js';
import { startFakeOpenAi, type OpenAiMode } from '../helpers/fake-openai.js';
import type { FakeVisionServer } from '../helpers/fake-vision-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { runCli } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** 1,200 input and 150 output tokens at 0.15 and 0.6 per 1,000. */
const OPENAI_CALL = 0.27;
/** Five units at 1.5 per 1,000. */
const GOOGLE_CALL = 0.0075;

describe.each(availableDialects())('paid providers on %s: cost, cache, budget, pause', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let openai: FakeVisionServer<OpenAiMode>;
  let google: FakeVisionServer<GoogleMode>;
  let env: Record<string, string>;
  const metrics = new Metrics();

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-paid-'));
    [openai, google] = await Promise.all([startFakeOpenAi(), startFakeGoogleVision()]);
    env = {
      DATABASE_URL: t.url,
      STORAGE_DIR: path.join(dir, 'storage'),
      ANALYSIS_PROVIDERS: 'local,openai,google',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_PRICE_PER_1K_INPUT: '0.15',
      OPENAI_PRICE_PER_1K_OUTPUT: '0.6',
      OPENAI_DAILY_BUDGET: '5',
      GOOGLE_VISION_BASE_URL: google.url,
      GOOGLE_VISION_API_KEY: 'AIza-test',
      GOOGLE_VISION_PRICE_PER_1K_UNITS: '1.5',
      GOOGLE_VISION_DAILY_BUDGET: '0.02',
    };
  });
  afterAll(async () => {
    await Promise.all([openai.close(), google.close()]);
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the real pipeline (providers hooked to `metrics`, as App does) until the queue is empty. */
  async function work(): Promise<void> {
    const config = loadConfig(env);
    const images = createImageRuntime(config.imageMemoryMb);
    const providers = createProviders(config, silentLogger(), metrics);
    try {
      const steps = buildPipeline(config, t.db, new FsObjectStore(config.storageDir), { images, providers });
      await makeWorker(t.db, steps).run();
    } finally {
      await images.close();
      await closeProviders(providers);
    }
  }

  async function upload(file: string, role: Role = 'product'): Promise<number> {
    const [id] = await ingestFiles(t.db, [SAMPLE(file)], { userId: 9, role, isTestData: true });
    await work();
    return id!;
  }

  const view = async (id: number) => (await findItemView(t.db, id))!;
  const calls = (item: ItemView) => item.steps.find((s) => s.name === 'analyse')!.cost!.provider_calls;
  const metric = async (name: string, provider: string) =>
    (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.provider === provider)
      ?.value ?? 0;

  let first: number;

  it('merges local, openai and google per field and totals what the calls cost', async () => {
    // Yesterday's spend does not count against today's budget.
    await recordSpend(t.db, 'openai', utcDay(Date.now() - 86_400_000), 1000);
    first = await upload('cat-chelsea.png');
    const analysis = (await findAnalysis(t.db, first))!;
    expect(analysis).toMatchObject({
      medium_detected: 'painting',
      style_classification: 'impressionism',
      quality_score: 78,
      subject_matter: 'cat',
      caption: 'An impressionist painting of a cat resting on a windowsill.',
      provider: 'local,openai,google',
    });
    expect(parseJson(analysis.field_sources)).toMatchObject({
      medium_detected: { provider: 'openai', version: 'gpt-4o-mini-2024-07-18', confidence: 0.92 },
      quality_score: { provider: 'openai' },
      subject_matter: { provider: 'google', version: 'images:annotate' },
      detected_objects: { provider: 'google' },
      placeholder_hash: { provider: 'local' },
    });
    expect(parseJson(analysis.raw_responses)).toMatchObject({
      google: { responses: [expect.any(Object)] },
      openai: { object: 'chat.completion' },
    });

    const item = await view(first);
    expect(calls(item).map((c) => [c.provider, c.outcome, c.cost])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'ok', OPENAI_CALL],
      ['google', 'ok', GOOGLE_CALL],
    ]);
    expect(calls(item)[1]!.reported).toMatchObject({ usage: { input_tokens: 1200, output_tokens: 150 } });
    expect(item.cost).toMatchObject({ provider_cost: OPENAI_CALL + GOOGLE_CALL, provider_cost_saved: 0 });
    expect(await metric('media_worker_provider_cost_total', 'openai')).toBeCloseTo(OPENAI_CALL, 9);
    expect(await metric('media_worker_provider_cost_total', 'google')).toBeCloseTo(GOOGLE_CALL, 9);
    const shown = await runCli(['show', String(first)], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`provider cost: ${item.cost!.provider_cost}`);
    expect(shown.stdout).toMatch(/openai ok \d+ms cost \d/);
  }, 60_000);

  it('answers a duplicate upload from the cache: no new call, the hit and the money saved counted', async () => {
    const before = [openai.requests.length, google.requests.length];
    // Another role: the upload is analysed (not copied from its twin), so the cache is what saves the money.
    const twin = await upload('cat-chelsea.png', 'event');
    expect([openai.requests.length, google.requests.length]).toEqual(before);
    expect((await findAnalysis(t.db, twin))!).toMatchObject({
      medium_detected: 'painting',
      subject_matter: 'cat',
    });
    const item = await view(twin);
    expect(calls(item).map((c) => [c.provider, c.cache_hit, c.cost, c.saved_cost])).toEqual([
      ['local', undefined, undefined, undefined],
      ['openai', true, 0, OPENAI_CALL],
      ['google', true, 0, GOOGLE_CALL],
    ]);
    expect(item.cost).toMatchObject({ provider_cost: 0, provider_cost_saved: OPENAI_CALL + GOOGLE_CALL });
    expect(await metric('media_worker_provider_cache_hits_total', 'openai')).toBe(1);
    const row = (await t.db('provider_cache').where({ provider: 'openai' }).first()) as Record<
      string,
      unknown
    >;
    expect([Number(row.hit_count), Number(row.saved_cost), row.prompt_version]).toEqual([
      1,
      OPENAI_CALL,
      'art-v1',
    ]);
  }, 60_000);

  it('re-runs one provider on purpose with `reanalyse`, through the requeue machinery, bypassing its cache', async () => {
    const before = [openai.requests.length, google.requests.length];
    const result = await runCli(['reanalyse', '--provider', 'openai', '--ids', String(first), '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ provider: 'openai', requeued: [first], skipped: [] });
    await work();
    expect([openai.requests.length, google.requests.length]).toEqual([before[0]! + 1, before[1]]);
    const [{ n }] = (await t.db('analysis_reruns').count({ n: '*' })) as [{ n: unknown }];
    expect(Number(n)).toBe(0);
    expect((await findMedia(t.db, first))!.status).toBe('completed');
    const item = await view(first);
    // Both runs are on the timeline: the first one's calls and the re-run's.
    expect(item.cost).toMatchObject({
      provider_cost: 2 * OPENAI_CALL + GOOGLE_CALL,
      provider_cost_saved: GOOGLE_CALL,
    });
  }, 60_000);

  it('pauses a provider that answers 401, skips only it, and shows the pause in doctor', async () => {
    openai.script('401');
    const refused = await upload('coffee-cup.png');
    expect((await findMedia(t.db, refused))!.status).toBe('completed');
    expect(calls(await view(refused)).map((c) => [c.provider, c.outcome, c.reported.error_class])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'failed', 'AUTH'],
      ['google', 'ok', undefined],
    ]);
    const asked = openai.requests.length;
    const paused = await upload('street-sign-text.png');
    expect(openai.requests.length).toBe(asked);
    expect(calls(await view(paused)).map((c) => [c.provider, c.outcome, c.reported.reason])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'skipped', 'paused'],
      ['google', 'ok', undefined],
    ]);
    // google has now spent 3 × 0.0075 today, past its budget of 0.02: the next upload goes without it.
    const googleAsked = google.requests.length;
    const overBudget = await upload('hubble-deep-field.jpg');
    expect(google.requests.length).toBe(googleAsked);
    expect(calls(await view(overBudget)).map((c) => [c.provider, c.outcome, c.reported.reason])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'skipped', 'paused'],
      ['google', 'skipped', 'over_budget'],
    ]);
    expect((await findAnalysis(t.db, overBudget))!).toMatchObject({ provider: 'local' });

    const doctor = await runCli(['doctor', '--json'], env);
    expect(doctor.code, doctor.stderr).toBe(0);
    const paid = (JSON.parse(doctor.stdout) as { paid_providers: unknown }).paid_providers;
    expect(paid).toMatchObject([
      {
        provider: 'openai',
        state: 'paused',
        pause_reason: expect.stringContaining('AUTH: openai answered 401'),
        spent_today: 2 * OPENAI_CALL,
        daily_budget: 5,
        calls_today: 2,
        cache: { entries: 1, hits: 1 },
      },
      { provider: 'google', state: 'over_budget', calls_today: 3, cache_hits_today: 2, daily_budget: 0.02 },
    ]);
  }, 60_000);
  it('pauses a provider for the Retry-After of its 429, fleet-wide, and leaves the others alone', async () => {
    // A fresh day's budget for google, so that only the pause can keep it from being called.
    await t.db('provider_spend').where({ provider: 'google' }).delete();
    google.script('429');
    const limited = await upload('market-street-sign.jpg');
    expect(calls(await view(limited)).map((c) => [c.provider, c.outcome, c.reported.error_class])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'skipped', undefined],
      ['google', 'failed', 'RATE_LIMIT'],
    ]);
    const state = (await t.db('provider_state').where({ provider: 'google' }).first()) as Record<
      string,
      unknown
    >;
    expect(state.error_class).toBe('RATE_LIMIT');
    expect(Number(state.paused_until)).toBeGreaterThan(Date.now());
    const asked = google.requests.length;
    const file = path.join(dir, 'gradient.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3366aa' } })
      .png()
      .toFile(file);
    const [id] = await ingestFiles(t.db, [file], { userId: 9, role: 'product', isTestData: true });
    await work();
    expect(google.requests.length).toBe(asked);
    expect(calls(await view(id!)).map((c) => [c.provider, c.outcome, c.reported.reason])).toEqual([
      ['local', 'ok', undefined],
      ['openai', 'skipped', 'paused'],
      ['google', 'skipped', 'paused'],
    ]);
    expect((await findMedia(t.db, id!))!.status).toBe('completed');
  }, 60_000);

  it('keeps the earlier answer of a paused provider on `reanalyse`, and leaves the re-run marked for later', async () => {
    // openai is still paused (AUTH) from above: the re-run cannot ask it.
    expect((await findAnalysis(t.db, first))!.medium_detected).toBe('painting');
    const result = await runCli(['reanalyse', '--provider', 'openai', '--ids', String(first), '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    await work();
    const analysis = (await findAnalysis(t.db, first))!;
    expect(analysis).toMatchObject({ medium_detected: 'painting', caption: expect.stringContaining('cat') });
    expect(parseJson(analysis.field_sources)).toMatchObject({ medium_detected: { provider: 'openai' } });
    const marked = (await t.db('analysis_reruns').where({ media_id: first }).first()) as
      Record<string, unknown> | undefined;
    expect(marked?.providers).toBe('openai');
    const last = calls(await view(first))
      .filter((c) => c.provider === 'openai')
      .at(-1)!;
    expect(last).toMatchObject({
      outcome: 'skipped',
      reported: { reason: 'paused', kept_earlier_answer: true, rerun_pending: true },
    });
    // Once openai answers again, the next analyse (here a second reanalyse) asks it and clears the marker.
    await t.db('provider_state').delete();
    await t.db('provider_spend').delete();
    const before = openai.requests.length;
    await runCli(['reanalyse', '--provider', 'openai', '--ids', String(first), '--json'], env);
    await work();
    expect(openai.requests.length).toBe(before + 1);
    expect(await t.db('analysis_reruns').where({ media_id: first }).first()).toBeUndefined();
  }, 60_000);

  it('never lets a short pause shorten a longer one', async () => {
    const now = Date.now();
    await pauseProvider(t.db, {
      provider: 'openai',
      pausedUntil: now + 300_000,
      errorClass: 'AUTH',
      reason: 'bad key',
    });
    await pauseProvider(t.db, {
      provider: 'openai',
      pausedUntil: now + 30_000,
      errorClass: 'RATE_LIMIT',
      reason: 'slow down',
    });
    expect(await activePause(t.db, 'openai')).toMatchObject({
      pausedUntil: now + 300_000,
      errorClass: 'AUTH',
    });
    await pauseProvider(t.db, {
      provider: 'openai',
      pausedUntil: now + 600_000,
      errorClass: 'RATE_LIMIT',
      reason: 'longer',
    });
    expect(await activePause(t.db, 'openai')).toMatchObject({
      pausedUntil: now + 600_000,
      errorClass: 'RATE_LIMIT',
    });
    await t.db('provider_state').delete();
  });

  /** A fresh image (never cached) of one colour. */
  async function freshImage(name: string, colour: string): Promise<string> {
    const file = path.join(dir, `${name}.png`);
    await sharp({ create: { width: 320, height: 240, channels: 3, background: colour } })
      .png()
      .toFile(file);
    return file;
  }

  it('counts a paid 200 that fails to parse: in the day’s spend, and in the step cost with the failure', async () => {
    await t.db('provider_state').delete();
    await t.db('provider_spend').delete();
    openai.script('refusal');
    const [id] = await ingestFiles(t.db, [await freshImage('refused', '#aa3366')], {
      userId: 9,
      role: 'product',
      isTestData: true,
    });
    await work();
    const call = calls(await view(id!)).find((c) => c.provider === 'openai')!;
    expect(call).toMatchObject({
      outcome: 'failed',
      cost: OPENAI_CALL,
      reported: { error_class: 'TRANSIENT' },
    });
    const spend = (await t.db('provider_spend').where({ provider: 'openai' }).first()) as Record<
      string,
      unknown
    >;
    expect([Number(spend.cost), Number(spend.calls)]).toEqual([OPENAI_CALL, 1]);
    // The step's note names the failure's class, never its text.
    const events = (await t.db('processing_events').where({ media_id: id, step: 'analyse' })) as Array<
      Record<string, unknown>
    >;
    const notes = events.map((e) => (typeof e.message === 'string' ? e.message : '')).join('\n');
    expect(notes).toContain('openai: TRANSIENT');
    expect(notes).not.toContain('refused');
  }, 60_000);

  it('estimates the cost of an answer that reports no usage, and marks it estimated', async () => {
    openai.script('no-usage');
    const [id] = await ingestFiles(t.db, [await freshImage('no-usage', '#33aa66')], {
      userId: 9,
      role: 'product',
      isTestData: true,
    });
    await work();
    const item = await view(id!);
    const call = calls(item).find((c) => c.provider === 'openai')!;
    expect(call).toMatchObject({ outcome: 'ok', cost_estimated: true });
    expect(call.cost).toBeGreaterThan(0);
    expect(item.cost).toMatchObject({ provider_cost_estimated: true });
    const spend = (await t.db('provider_spend').where({ provider: 'openai' }).first()) as Record<
      string,
      unknown
    >;
    expect(Number(spend.cost)).toBeCloseTo(OPENAI_CALL + call.cost!, 9);
  }, 60_000);

  it('pauses a provider whose request is refused with a 400 (a setting to fix), not retried per upload', async () => {
    openai.script('400-param');
    const [id] = await ingestFiles(t.db, [await freshImage('bad-param', '#6633aa')], {
      userId: 9,
      role: 'product',
      isTestData: true,
    });
    await work();
    const call = calls(await view(id!)).find((c) => c.provider === 'openai')!;
    expect(call).toMatchObject({ outcome: 'failed', reported: { error_class: 'AUTH' } });
    const state = (await t.db('provider_state').where({ provider: 'openai' }).first()) as Record<
      string,
      unknown
    >;
    expect(state.error_class).toBe('BAD_REQUEST');
    expect(String(state.reason)).toContain('max_completion_tokens');
    await t.db('provider_state').delete();
  }, 60_000);
});
