/**
 * What the paid providers cost per UTC day (`provider_spend`) and which of
 * them are paused (`provider_state`). Both live in the database, not in a
 * process, so a daily budget holds for the whole fleet and across restarts,
 * and an AUTH pause is seen by every worker and by `doctor`.
 */
import type { Db } from './connect.js';
import { toNumber, toText } from './row-values.js';

/** The UTC day of a time, as the spend table keys it: 2026-12-01. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export interface SpendChange {
  cost: number;
  calls: number;
  cacheHits: number;
  saved: number;
}

/** Adds to the provider's day in one statement (insert, or add to the row), safe under concurrent workers. */
export async function addSpend(db: Db, provider: string, day: string, change: SpendChange, now = Date.now()) {
  await db('provider_spend')
    .insert({
      provider,
      day,
      cost: change.cost,
      calls: change.calls,
      cache_hits: change.cacheHits,
      saved_cost: change.saved,
      updated_at: now,
    })
    .onConflict(['provider', 'day'])
    .merge({
      cost: db.raw('provider_spend.cost + ?', [change.cost]),
      calls: db.raw('provider_spend.calls + ?', [change.calls]),
      cache_hits: db.raw('provider_spend.cache_hits + ?', [change.cacheHits]),
      saved_cost: db.raw('provider_spend.saved_cost + ?', [change.saved]),
      updated_at: now,
    });
}

/** Records one paid call; a call without a known cost (no price configured) counts as a call costing 0. */
export function recordSpend(db: Db, provider: string, day: string, cost: number | null, now = Date.now()) {
  return addSpend(db, provider, day, { cost: cost ?? 0, calls: 1, cacheHits: 0, saved: 0 }, now);
}

export async function spentOn(db: Db, provider: string, day: string): Promise<number> {
  const row = (await db('provider_spend').where({ provider, day }).first('cost')) as
    { cost: unknown } | undefined;
  return row ? toNumber(row.cost) : 0;
}

export interface DaySpend {
  provider: string;
  cost: number;
  calls: number;
  cacheHits: number;
  saved: number;
}

export async function spendOnDay(db: Db, day: string): Promise<DaySpend[]> {
  const rows = (await db('provider_spend').where({ day }).orderBy('provider')) as Array<
    Record<string, unknown>
  >;
  return rows.map((row) => ({
    provider: toText(row.provider),
    cost: toNumber(row.cost),
    calls: toNumber(row.calls),
    cacheHits: toNumber(row.cache_hits),
    saved: toNumber(row.saved_cost),
  }));
}

export interface ProviderPause {
  provider: string;
  pausedUntil: number;
  errorClass: string;
  reason: string;
}

/**
 * Pauses a provider fleet-wide until `until`. An active pause is never
 * shortened: a 30 s RATE_LIMIT does not end a 5 min AUTH pause early; the
 * pause ending later (with its reason) is kept. Two statements, each atomic,
 * so concurrent workers cannot shorten it either.
 */
export async function pauseProvider(db: Db, pause: ProviderPause, now = Date.now()): Promise<void> {
  const row = {
    provider: pause.provider,
    paused_until: pause.pausedUntil,
    error_class: pause.errorClass.slice(0, 16),
    reason: pause.reason.slice(0, 300),
    updated_at: now,
  };
  await db('provider_state').insert(row).onConflict('provider').ignore();
  await db('provider_state')
    .where({ provider: pause.provider })
    .andWhere('paused_until', '<', pause.pausedUntil)
    .update(row);
}

const toPause = (row: Record<string, unknown>): ProviderPause => ({
  provider: toText(row.provider),
  pausedUntil: toNumber(row.paused_until),
  errorClass: toText(row.error_class),
  reason: toText(row.reason),
});

/** The provider's pause, while it lasts. */
export async function activePause(
  db: Db,
  provider: string,
  now = Date.now(),
): Promise<ProviderPause | undefined> {
  const row = (await db('provider_state').where({ provider }).andWhere('paused_until', '>', now).first()) as
    Record<string, unknown> | undefined;
  return row && toPause(row);
}

export async function activePauses(db: Db, now = Date.now()): Promise<ProviderPause[]> {
  const rows = (await db('provider_state').where('paused_until', '>', now).orderBy('provider')) as Array<
    Record<string, unknown>
  >;
  return rows.map(toPause);
}
