/**
 * One call of a paid provider (openai, google) as the analyse step makes it,
 * around provider.analyse():
 * 1. the cache: an answer stored for the image's sha256 + provider + model +
 *    prompt version is reused (the hit and the money not spent counted),
 *    unless an operator asked for a re-run (`reanalyse`);
 * 2. a fleet-wide pause (an AUTH answer, a long Retry-After) skips the call;
 * 3. the daily budget: once the UTC day's spend reaches it, the call is
 *    skipped until the next day;
 * 4. the call: its cost recorded for the day and its answer cached.
 * The ledger (the database side) is handed in by the step.
 */
import { AuthError, RateLimitError, TransientError, findMediaError } from '../errors.js';
import type { Logger } from '../log.js';
import type {
  AnalysisInput,
  AnalysisProvider,
  ProviderBilling,
  ProviderReport,
} from './analysis-provider.js';
import { WARNING_INTERVAL_MS } from './provider-gate.js';
import { PaidAnswerError, ProviderRequestError } from './provider-http.js';

/** How long an AUTH answer (a wrong or revoked key) pauses the provider before it is tried again. */
export const AUTH_PAUSE_MS = 5 * 60_000;

export interface CacheKey {
  sha256: string;
  provider: string;
  model: string;
  promptVersion: string;
}

export interface ProviderLedger {
  findCached(key: CacheKey): Promise<{ report: unknown; cost: number | null } | undefined>;
  recordCacheHit(key: CacheKey, saved: number | null, day: string): Promise<void>;
  saveCached(
    key: CacheKey,
    answer: { report: unknown; cost: number | null },
    replace: boolean,
  ): Promise<void>;
  spentOn(provider: string, day: string): Promise<number>;
  recordSpend(provider: string, day: string, cost: number | null): Promise<void>;
  activePause(provider: string): Promise<{ pausedUntil: number; reason: string } | undefined>;
  pause(provider: string, until: number, errorClass: string, reason: string): Promise<void>;
}

/** The call was not made: the provider is paused or over its budget. */
export class ProviderSkippedError extends TransientError {
  constructor(
    message: string,
    readonly reason: 'paused' | 'over_budget',
  ) {
    super(message);
  }
}

export interface BilledRun {
  report: ProviderReport;
  cacheHit: boolean;
  /** On a hit, what the stored answer had cost. */
  savedCost: number | null;
}

export interface BilledContext {
  ledger: ProviderLedger;
  sha256: string | null;
  bypassCache: boolean;
  log: Logger;
  now?: () => number;
}

const warnedAt = new Map<string, number>();

/** Process-wide: a paused or over-budget provider is warned about once a minute, not once per upload. */
function warnOnce(log: Logger, key: string, fields: Record<string, unknown>, message: string, now: number) {
  const last = warnedAt.get(key);
  if (last !== undefined && now - last < WARNING_INTERVAL_MS) return;
  warnedAt.set(key, now);
  log.warn(fields, message);
}

/** A stored report read back; anything that is not one is a miss (a hand-edited row must not break analysis). */
function cachedReport(stored: unknown): ProviderReport | undefined {
  const r = stored as Partial<ProviderReport> | null;
  if (typeof r !== 'object' || r === null || typeof r.fields !== 'object' || r.fields === null)
    return undefined;
  return {
    fields: r.fields,
    raw: r.raw,
    usedModels: r.usedModels === true,
    ...(r.version ? { version: r.version } : {}),
  };
}

async function pauseAfter(error: unknown, name: string, context: BilledContext, now: number): Promise<void> {
  const known = findMediaError(error);
  if (known instanceof ProviderRequestError) {
    // Our request is wrong (a setting): every upload would fail the same way until an operator changes it.
    await context.ledger.pause(name, now + AUTH_PAUSE_MS, 'BAD_REQUEST', known.message);
    warnOnce(
      context.log,
      `request:${name}`,
      { provider: name, err: known.message },
      `analysis provider ${name} rejected the request (400): paused for ${AUTH_PAUSE_MS / 60_000} min (check its settings, e.g. OPENAI_TOKEN_LIMIT_PARAM, OPENAI_TEMPERATURE)`,
      now,
    );
  } else if (known instanceof AuthError) {
    await context.ledger.pause(name, now + AUTH_PAUSE_MS, 'AUTH', known.message);
    warnOnce(
      context.log,
      `auth:${name}`,
      { provider: name, err: known.message },
      `analysis provider ${name} refused the key: paused for ${AUTH_PAUSE_MS / 60_000} min (check its API key)`,
      now,
    );
  } else if (known instanceof RateLimitError) {
    await context.ledger.pause(name, now + known.retryAfterMs, 'RATE_LIMIT', known.message);
    warnOnce(
      context.log,
      `rate:${name}`,
      { provider: name, retryAfterMs: known.retryAfterMs },
      `analysis provider ${name} asked to slow down: paused as its Retry-After says`,
      now,
    );
  }
}

async function checkCallable(
  name: string,
  billing: ProviderBilling,
  context: BilledContext,
  now: number,
  day: string,
) {
  const pause = await context.ledger.activePause(name);
  if (pause) {
    const until = new Date(pause.pausedUntil).toISOString();
    warnOnce(
      context.log,
      `paused:${name}`,
      { provider: name, until, reason: pause.reason },
      `analysis provider ${name} is paused; skipping it`,
      now,
    );
    throw new ProviderSkippedError(`${name} is paused until ${until}`, 'paused');
  }
  if (billing.dailyBudget === undefined) return;
  const spent = await context.ledger.spentOn(name, day);
  if (spent >= billing.dailyBudget) {
    warnOnce(
      context.log,
      `budget:${name}:${day}`,
      { provider: name, spent, budget: billing.dailyBudget, day },
      `analysis provider ${name} reached its daily budget; skipped until the next UTC day`,
      now,
    );
    throw new ProviderSkippedError(
      `${name} reached its daily budget (${spent} of ${billing.dailyBudget} on ${day})`,
      'over_budget',
    );
  }
}

/** The paid-for 2xx in an error's cause chain, if the call got that far. */
export function paidAnswer(error: unknown): PaidAnswerError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof PaidAnswerError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * The stored answer of a paid provider for this image, read without counting
 * a hit: what a re-run keeps when the provider it bypassed did not answer
 * (paused, over budget, failed), so the item does not lose it.
 */
export async function storedAnswer(
  provider: AnalysisProvider,
  context: Pick<BilledContext, 'ledger' | 'sha256'>,
): Promise<ProviderReport | undefined> {
  const { billing } = provider;
  if (!billing || !context.sha256) return undefined;
  const stored = await context.ledger.findCached({
    sha256: context.sha256,
    provider: provider.name,
    model: billing.model,
    promptVersion: billing.promptVersion,
  });
  const report = stored && cachedReport(stored.report);
  return report && { ...report, usage: { cache_hit: true, kept_for_rerun: true }, cost: 0 };
}

export async function runBilled(
  provider: AnalysisProvider,
  billing: ProviderBilling,
  input: AnalysisInput,
  context: BilledContext,
): Promise<BilledRun> {
  const { name } = provider;
  const now = context.now?.() ?? Date.now();
  const day = new Date(now).toISOString().slice(0, 10);
  const key = context.sha256
    ? { sha256: context.sha256, provider: name, model: billing.model, promptVersion: billing.promptVersion }
    : undefined;
  if (key && !context.bypassCache) {
    const stored = await context.ledger.findCached(key);
    const report = stored && cachedReport(stored.report);
    if (stored && report) {
      await context.ledger.recordCacheHit(key, stored.cost, day);
      billing.hooks?.onProviderCacheHit?.(name, stored.cost ?? 0);
      return {
        report: { ...report, usage: { cache_hit: true }, cost: 0 },
        cacheHit: true,
        savedCost: stored.cost,
      };
    }
  }
  await checkCallable(name, billing, context, now, day);
  let report: ProviderReport;
  try {
    report = await provider.analyse(input);
  } catch (error) {
    // A 2xx that could not be used was paid for: counted against the day, or every retry would pay unseen.
    const paid = paidAnswer(error);
    if (paid) {
      await context.ledger.recordSpend(name, day, paid.cost);
      if (paid.cost !== null) billing.hooks?.onProviderCost?.(name, paid.cost);
    }
    await pauseAfter(error, name, context, now);
    throw error;
  }
  const cost = report.cost ?? null;
  await context.ledger.recordSpend(name, day, cost);
  if (cost !== null) billing.hooks?.onProviderCost?.(name, cost);
  if (key) {
    const { fields, raw, usedModels, version } = report;
    await context.ledger.saveCached(
      key,
      { report: { fields, raw, usedModels, version }, cost },
      context.bypassCache,
    );
  }
  return { report, cacheHit: false, savedCost: null };
}
