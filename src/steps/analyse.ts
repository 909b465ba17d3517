/**
 * Step 2, analyse: every configured provider (local measurements, models, a
 * remote service) looks at the item's one decode; their reports merge into
 * media_ai_analysis with each field's provider, version and confidence.
 * Analysis never blocks delivery: a provider that fails is logged and left
 * out, and if every provider fails the step is recorded as skipped and the
 * item goes on (ai_enhanced: false). A file that cannot be decoded is another
 * matter: it fails the item here, as resize would.
 */
import type { ProviderCall } from '../db/attempt-cost.js';
import { ALL_PROVIDERS, clearRerun, findRerun, keepRerunFor } from '../db/analysis-reruns.js';
import type { Db } from '../db/connect.js';
import { copyAnalysis, findDuplicateSource, saveAnalysis } from '../db/media-outputs.js';
import { findCachedAnswer, recordCacheHit, saveCachedAnswer } from '../db/provider-cache.js';
import { activePause, pauseProvider, recordSpend, spentOn } from '../db/provider-spend.js';
import { mergeAnalysis, type ProviderRun } from '../analysis/merge-analysis.js';
import type { AnalysisInput, AnalysisProvider, ProviderReport } from '../analysis/analysis-provider.js';
import {
  ProviderSkippedError,
  paidAnswer,
  runBilled,
  storedAnswer,
  type ProviderLedger,
} from '../analysis/billed-run.js';
import { LeaseLostError, classify, codeInChain } from '../errors.js';
import { parseRole, type Role } from '../media-roles.js';
import { decodedItem, localOriginal, logoWithoutBackground, type DecodeOptions } from './decoded-item.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export interface AnalyseOptions extends DecodeOptions {
  db: Db;
  providers: readonly AnalysisProvider[];
}

export function createAnalyseStep(options: AnalyseOptions): Step {
  return {
    name: 'analyse',
    async run(context: StepContext): Promise<StepOutcome> {
      // An operator's re-run (reanalyse) analyses afresh: no copy of a duplicate's analysis.
      const rerun = await findRerun(options.db, context.media.id);
      const reused = rerun ? undefined : await reuseDuplicateAnalysis(options.db, context);
      if (reused) return reused;
      const ledger = providerLedger(options.db);
      // The original is read by whichever step decodes it first in this run (analyse, normally).
      const bytesRead = context.run.decoded ? 0 : (context.media.file_size ?? 0);
      const input = await analysisInput(context, options);
      const runs: ProviderRun[] = [];
      const failures: string[] = [];
      const calls: ProviderCall[] = [];
      /** Providers a re-run bypassed that did not answer: their marker stays (see keptForRerun). */
      const unanswered: string[] = [];
      const answers = await askEveryProvider(options.providers, input, context, ledger, rerun);
      for (const { provider, durationMs, ...answer } of answers) {
        if ('result' in answer) {
          const { report, money } = answer.result;
          const version = report.version ?? provider.version;
          runs.push({ provider: provider.name, version, report });
          calls.push({
            ...providerCall(provider.name, 'ok', durationMs, reportedBy(version, report)),
            ...money,
          });
          continue;
        }
        const { error } = answer;
        const kept = bypassesCache(provider, rerun)
          ? await keptForRerun(provider, context, ledger, unanswered, runs)
          : {};
        if (error instanceof ProviderSkippedError) {
          // billed-run.ts has warned (once a minute); the timeline says why it was not called.
          calls.push(providerCall(provider.name, 'skipped', durationMs, { reason: error.reason, ...kept }));
          continue;
        }
        calls.push(failedCall(provider.name, error, durationMs, kept, context, failures));
      }
      const cost = { bytes_read: bytesRead, provider_calls: calls };
      if (rerun && unanswered.length) await keepRerunFor(options.db, context.media.id, unanswered);
      else if (rerun) await clearRerun(options.db, context.media.id);
      if (runs.length === 0) {
        return {
          status: 'skipped',
          note: `analysis failed (${failures.join('; ') || 'no providers configured'}); delivered without analysis (ai_enhanced: false)`,
          cost,
        };
      }
      const row = mergeAnalysis(runs);
      await saveAnalysis(options.db, context.guard, row);
      const failed = failures.length ? `; failed: ${failures.join('; ')}` : '';
      return {
        status: 'completed',
        note: `${runs.map((run) => run.provider).join('+')}: quality ${String(row.quality_score)}, medium ${String(row.medium_detected)}, subject ${String(row.subject_matter)}${failed}`,
        cost,
      };
    },
  };
}

/** The database side of the paid providers' cache, spend and pauses (billed-run.ts). */
function providerLedger(db: Db): ProviderLedger {
  return {
    findCached: (key) => findCachedAnswer(db, key),
    recordCacheHit: (key, saved, day) => recordCacheHit(db, key, saved, day),
    saveCached: (key, answer, replace) => saveCachedAnswer(db, key, answer, replace),
    spentOn: (provider, day) => spentOn(db, provider, day),
    recordSpend: (provider, day, cost) => recordSpend(db, provider, day, cost),
    activePause: (provider) => activePause(db, provider),
    pause: (provider, until, errorClass, reason) =>
      pauseProvider(db, { provider, pausedUntil: until, errorClass, reason }),
  };
}

const bypassesCache = (provider: AnalysisProvider, rerun: string[] | undefined): boolean =>
  provider.billing !== undefined &&
  rerun !== undefined &&
  (rerun.includes(ALL_PROVIDERS) || rerun.includes(provider.name));

/**
 * A re-run's provider did not answer (paused, over budget, failed): the
 * item keeps that provider's earlier answer (from the cache) rather than
 * losing it when the analysis row is rewritten, and the re-run stays marked
 * for it, to be tried again at the item's next analyse (`reanalyse`, a
 * requeue or a heal from analyse).
 */
async function keptForRerun(
  provider: AnalysisProvider,
  context: StepContext,
  ledger: ProviderLedger,
  unanswered: string[],
  runs: ProviderRun[],
): Promise<Record<string, unknown>> {
  unanswered.push(provider.name);
  const report = await storedAnswer(provider, { ledger, sha256: context.media.sha256 });
  if (report) runs.push({ provider: provider.name, version: report.version ?? provider.version, report });
  context.log.warn(
    { provider: provider.name, mediaId: context.media.id, keptEarlierAnswer: report !== undefined },
    'reanalyse: the provider did not answer; the earlier answer is kept and the re-run stays marked for the next analyse (reanalyse, requeue or heal)',
  );
  return { kept_earlier_answer: report !== undefined, rerun_pending: true };
}

/**
 * A provider that failed: logged with its message; the note and the call
 * name only its class and code (a message can name internal hosts, and the
 * API shows both), plus what a paid 2xx cost.
 */
function failedCall(
  name: string,
  error: unknown,
  durationMs: number,
  kept: Record<string, unknown>,
  context: StepContext,
  failures: string[],
): ProviderCall {
  context.log.warn(
    { provider: name, err: (error as Error).message },
    'analysis provider failed; going on without it',
  );
  const errorClass = classify(error).errorClass;
  const code = codeInChain(error) ?? null;
  failures.push(`${name}: ${errorClass}${code ? ` ${code}` : ''}`);
  const reported = { error_class: errorClass, code, ...kept };
  return { ...providerCall(name, 'failed', durationMs, reported), ...paidMoney(error) };
}

/** A failed call that had a paid 2xx: what it cost, counted in the step like any call. */
function paidMoney(error: unknown): Partial<ProviderCall> {
  const paid = paidAnswer(error);
  if (!paid) return {};
  return { cost: paid.cost, ...(paid.costEstimated ? { cost_estimated: true } : {}) };
}

type ProviderAnswer = { provider: AnalysisProvider; durationMs: number } & (
  { result: Awaited<ReturnType<typeof analyseWith>> } | { error: unknown }
);

/**
 * Every provider looks at the one decode at once (the models in their
 * thread, the local measurements on this one, a remote service over the
 * network): an item's analysis takes as long as its slowest provider, not
 * their sum. Answers come back in the configured order, which the merge
 * follows. A lost lease or a shutdown ends the step, but only once no
 * provider is still at work on it.
 */
async function askEveryProvider(
  providers: readonly AnalysisProvider[],
  input: AnalysisInput,
  context: StepContext,
  ledger: ProviderLedger,
  rerun: string[] | undefined,
): Promise<ProviderAnswer[]> {
  const answers = await Promise.all(
    providers.map(async (provider): Promise<ProviderAnswer> => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const result = await analyseWith(provider, input, context, ledger, rerun);
        return { provider, durationMs: elapsed(), result };
      } catch (error) {
        return { provider, durationMs: elapsed(), error };
      }
    }),
  );
  const errors = answers.flatMap((answer) => ('error' in answer ? [answer.error] : []));
  const leaseLost = errors.find((error) => error instanceof LeaseLostError);
  if (leaseLost) throw leaseLost;
  // Stopped by shutdown, not failed: the item is released and analysed whole later.
  if (context.signal.aborted && errors.length) throw errors[0];
  return answers;
}

/** One provider's report; a paid one through its cache, pause and budget, with what it cost. */
async function analyseWith(
  provider: AnalysisProvider,
  input: AnalysisInput,
  context: StepContext,
  ledger: ProviderLedger,
  rerun: string[] | undefined,
): Promise<{ report: ProviderReport; money: Partial<ProviderCall> }> {
  const { billing } = provider;
  if (!billing) return { report: await provider.analyse(input), money: {} };
  const bypassCache = bypassesCache(provider, rerun);
  const run = await runBilled(provider, billing, input, {
    ledger,
    sha256: context.media.sha256,
    bypassCache,
    log: context.log,
  });
  const money: Partial<ProviderCall> = run.cacheHit
    ? { cost: 0, cache_hit: true, saved_cost: run.savedCost }
    : { cost: run.report.cost ?? null, ...(run.report.costEstimated ? { cost_estimated: true } : {}) };
  return { report: run.report, money };
}

function providerCall(
  provider: string,
  outcome: ProviderCall['outcome'],
  durationMs: number,
  reported: Record<string, unknown>,
): ProviderCall {
  return { provider, outcome, duration_ms: durationMs, reported };
}

/** What a provider's answer says about the call: which version answered, how many fields, its own usage. */
function reportedBy(version: string, report: ProviderReport): Record<string, unknown> {
  return {
    version,
    fields: Object.keys(report.fields).length,
    used_models: report.usedModels,
    ...(report.usage ? { usage: report.usage } : {}),
  };
}

async function analysisInput(context: StepContext, options: AnalyseOptions): Promise<AnalysisInput> {
  const image = await decodedItem(context, options);
  const { media } = context;
  const role = parseRole(media.role) as Role;
  let removal;
  try {
    removal = role === 'logo' ? await logoWithoutBackground(context, options) : undefined;
  } catch (error) {
    context.log.warn(
      { err: (error as Error).message },
      'background removal failed; analysing the logo as it is',
    );
  }
  return {
    image,
    role,
    signal: context.signal,
    original: {
      width: media.width!,
      height: media.height!,
      path: await localOriginal(context, options),
    },
    removal,
  };
}

async function reuseDuplicateAnalysis(db: Db, context: StepContext): Promise<StepOutcome | undefined> {
  const source = await findDuplicateSource(db, context.media);
  if (!source || !(await copyAnalysis(db, context.guard, source.id))) return undefined;
  return { status: 'completed', note: `reused the analysis of item ${source.id} (identical bytes)` };
}
