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
import type { Db } from '../db/connect.js';
import { copyAnalysis, findDuplicateSource, saveAnalysis } from '../db/media-outputs.js';
import { mergeAnalysis, type ProviderRun } from '../analysis/merge-analysis.js';
import type { AnalysisInput, AnalysisProvider, ProviderReport } from '../analysis/analysis-provider.js';
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
      const reused = await reuseDuplicateAnalysis(options.db, context);
      if (reused) return reused;
      // The original is read by whichever step decodes it first in this run (analyse, normally).
      const bytesRead = context.run.decoded ? 0 : (context.media.file_size ?? 0);
      const input = await analysisInput(context, options);
      const runs: ProviderRun[] = [];
      const failures: string[] = [];
      const calls: ProviderCall[] = [];
      for (const provider of options.providers) {
        const started = performance.now();
        try {
          const report = await provider.analyse(input);
          const version = report.version ?? provider.version;
          runs.push({ provider: provider.name, version, report });
          calls.push(providerCall(provider.name, 'ok', started, reportedBy(version, report)));
        } catch (error) {
          if (error instanceof LeaseLostError) throw error;
          // Stopped by shutdown, not failed: the item is released and analysed whole later.
          if (context.signal.aborted) throw error;
          const message = (error as Error).message;
          context.log.warn(
            { provider: provider.name, err: message },
            'analysis provider failed; going on without it',
          );
          failures.push(`${provider.name}: ${message}`);
          // What kind of failure, not its text: a message can name internal hosts, and the API shows this.
          const reported = { error_class: classify(error).errorClass, code: codeInChain(error) ?? null };
          calls.push(providerCall(provider.name, 'failed', started, reported));
        }
      }
      const cost = { bytes_read: bytesRead, provider_calls: calls };
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

function providerCall(
  provider: string,
  outcome: ProviderCall['outcome'],
  startedAt: number,
  reported: Record<string, unknown>,
): ProviderCall {
  return { provider, outcome, duration_ms: Math.round(performance.now() - startedAt), reported };
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
