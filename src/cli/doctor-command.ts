/**
 * `doctor`: what this install will analyse, with which models, versions and
 * licences, and (with --load) whether each provider really loads and how long
 * it takes, on a generated image. Exit 1 when a configured model cannot run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { analysisInputFor } from '../analysis/analysis-input.js';
import type { DecodeLimits } from '../images/decode-once.js';
import { ImageMemoryBudget } from '../images/memory-budget.js';
import { closeProviders, createProviders } from '../analysis/configured-providers.js';
import type { AnalysisProvider, ModelDescription } from '../analysis/analysis-provider.js';
import { createLogger } from '../log.js';
import { configFor, formatTable, printJson, withDatabase } from './context.js';
import { providerStatus, type ProviderStatus } from '../db/provider-status.js';

interface ProviderCheck {
  provider: string;
  models: ModelDescription[];
  load?: { ok: boolean; ms: number; error?: string; detail?: unknown };
}

async function tryProvider(
  provider: AnalysisProvider,
  file: string,
  limits: DecodeLimits,
): Promise<NonNullable<ProviderCheck['load']>> {
  const started = performance.now();
  try {
    const report = await provider.analyse(await analysisInputFor(file, 'product', limits));
    const raw = report.raw as { status?: unknown; problems?: string[] } | undefined;
    const problems = raw?.problems ?? [];
    return {
      ok: problems.length === 0,
      ms: Math.round(performance.now() - started),
      ...(problems.length ? { error: problems.join('; ') } : {}),
      detail: raw?.status,
    };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
  }
}

async function sampleImage(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-doctor-'));
  const file = path.join(dir, 'gradient.png');
  const pixels = Buffer.alloc(256 * 256 * 3);
  for (let i = 0; i < 256 * 256; i++) pixels.set([i % 256, (i >> 8) % 256, 128], i * 3);
  await sharp(pixels, { raw: { width: 256, height: 256, channels: 3 } })
    .png()
    .toFile(file);
  return file;
}

function printChecks(checks: ProviderCheck[]): void {
  const rows: (string | number)[][] = [['provider', 'task', 'model', 'package', 'licence', 'status']];
  for (const check of checks) {
    for (const model of check.models) {
      rows.push([
        check.provider,
        model.task,
        model.model,
        `${model.package}${model.version ? `@${model.version}` : ''}`,
        model.licence,
        model.unavailable ? `NOT AVAILABLE: ${model.unavailable}` : 'ready',
      ]);
    }
  }
  console.log(formatTable(rows));
  for (const check of checks.filter((c) => c.load)) {
    const load = check.load!;
    console.log(
      `${check.provider}: ${load.ok ? `loaded and analysed a test image in ${load.ms} ms` : `FAILED: ${load.error}`}` +
        (load.detail ? ` ${JSON.stringify(load.detail)}` : ''),
    );
  }
}

/**
 * The paid providers' fleet-wide state from the database (paused, over
 * budget, today's spend, the cache); a string saying why when the database
 * cannot be read: doctor checks the install, it must work without one.
 */
async function paidProviderStatus(
  command: Command,
  providers: readonly AnalysisProvider[],
): Promise<ProviderStatus[] | string> {
  const paid = providers.flatMap((p) =>
    p.billing ? [{ name: p.name, dailyBudget: p.billing.dailyBudget }] : [],
  );
  if (paid.length === 0) return [];
  try {
    return await withDatabase(command, ({ db }) => providerStatus(db, paid), { readOnly: true });
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

function printStatus(status: ProviderStatus[] | string): void {
  if (typeof status === 'string') return console.log(`paid providers' state: ${status}`);
  for (const s of status) {
    const state =
      s.state === 'paused'
        ? `PAUSED until ${new Date(s.paused_until!).toISOString()} (${s.pause_reason})`
        : s.state;
    const budget = s.daily_budget === null ? 'no budget' : `budget ${s.daily_budget}`;
    console.log(
      `${s.provider}: ${state}; ${s.day}: ${s.calls_today} call(s), spent ${s.spent_today} (${budget}), ${s.cache_hits_today} cache hit(s); cache: ${s.cache.entries} answer(s), ${s.cache.hits} hit(s), saved ${s.cache.saved}`,
    );
  }
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('list the analysis providers, models, versions and licences, and check they load')
    .option('--load', 'load every provider and analyse a generated test image (slow: loads the models)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nExamples:\n  $ media-worker doctor\n  $ media-worker doctor --load --json')
    .action(async (options: { load?: boolean; json?: boolean }, command: Command) => {
      const config = configFor(command);
      const log = createLogger(config.logLevel, 'stderr');
      const providers = createProviders(config, log);
      const limits = {
        maxInputPixels: config.maxInputPixels,
        memory: new ImageMemoryBudget(config.imageMemoryMb),
      };
      try {
        const file = options.load ? await sampleImage() : undefined;
        const checks: ProviderCheck[] = [];
        for (const provider of providers) {
          checks.push({
            provider: provider.name,
            models: provider.describe(),
            ...(file ? { load: await tryProvider(provider, file, limits) } : {}),
          });
        }
        if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
        const paid = await paidProviderStatus(command, providers);
        if (options.json) printJson({ providers: config.analysisProviders, checks, paid_providers: paid });
        else {
          printChecks(checks);
          printStatus(paid);
        }
        const broken = checks.some(
          (check) => check.models.some((model) => model.unavailable) || check.load?.ok === false,
        );
        if (broken) process.exitCode = 1;
      } finally {
        await closeProviders(providers);
      }
    });
}
