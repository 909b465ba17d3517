/**
 * The state of each paid analysis provider as `doctor` shows it, from the
 * database (so it is the fleet's state, not one process's): paused (and
 * why, until when), over its daily budget, or ready; today's spend and
 * calls; the cache's entries, hits and the money they saved.
 */
import type { Db } from './connect.js';
import { cacheTotals } from './provider-cache.js';
import { activePauses, spendOnDay, utcDay } from './provider-spend.js';

export interface PaidProvider {
  name: string;
  dailyBudget: number | undefined;
}

export interface ProviderStatus {
  provider: string;
  state: 'ready' | 'paused' | 'over_budget';
  paused_until: number | null;
  pause_reason: string | null;
  day: string;
  spent_today: number;
  daily_budget: number | null;
  calls_today: number;
  cache_hits_today: number;
  cache: { entries: number; hits: number; saved: number };
}

export async function providerStatus(
  db: Db,
  providers: readonly PaidProvider[],
  now = Date.now(),
): Promise<ProviderStatus[]> {
  const day = utcDay(now);
  const [pauses, spend, cache] = await Promise.all([
    activePauses(db, now),
    spendOnDay(db, day),
    cacheTotals(db),
  ]);
  return providers.map(({ name, dailyBudget }) => {
    const pause = pauses.find((p) => p.provider === name);
    const today = spend.find((s) => s.provider === name);
    const spent = today?.cost ?? 0;
    const overBudget = dailyBudget !== undefined && spent >= dailyBudget;
    const stored = cache.find((c) => c.provider === name);
    return {
      provider: name,
      state: pause ? 'paused' : overBudget ? 'over_budget' : 'ready',
      paused_until: pause?.pausedUntil ?? null,
      pause_reason: pause ? `${pause.errorClass}: ${pause.reason}` : null,
      day,
      spent_today: spent,
      daily_budget: dailyBudget ?? null,
      calls_today: today?.calls ?? 0,
      cache_hits_today: today?.cacheHits ?? 0,
      cache: { entries: stored?.entries ?? 0, hits: stored?.hits ?? 0, saved: stored?.saved ?? 0 },
    };
  });
}
