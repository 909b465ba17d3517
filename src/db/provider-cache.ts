/**
 * The paid providers' answer cache (`provider_cache`): one answer per image
 * sha256 + provider + model + prompt version, so the same image is never paid
 * for twice. A hit counts itself and the money it did not spend, in the row
 * and in the day's `provider_spend`.
 */
import type { Db } from './connect.js';
import { addSpend } from './provider-spend.js';
import { parseJson, toNumberOrNull } from './row-values.js';

export interface ProviderCacheKey {
  sha256: string;
  provider: string;
  model: string;
  promptVersion: string;
}

/** What was stored: the provider's report (JSON) and what the call cost. */
export interface CachedProviderAnswer {
  report: unknown;
  cost: number | null;
}

const keyColumns = (key: ProviderCacheKey) => ({
  sha256: key.sha256,
  provider: key.provider,
  model: key.model.slice(0, 128),
  prompt_version: key.promptVersion,
});

export async function findCachedAnswer(
  db: Db,
  key: ProviderCacheKey,
): Promise<CachedProviderAnswer | undefined> {
  const row = (await db('provider_cache').where(keyColumns(key)).first('answer', 'cost')) as
    { answer: unknown; cost: unknown } | undefined;
  if (!row) return undefined;
  const report = parseJson(row.answer);
  return report === undefined ? undefined : { report, cost: toNumberOrNull(row.cost) };
}

/** Counts a hit: in the cached row (hit_count, saved_cost) and in the provider's day. */
export async function recordCacheHit(
  db: Db,
  key: ProviderCacheKey,
  saved: number | null,
  day: string,
  now = Date.now(),
): Promise<void> {
  await db('provider_cache')
    .where(keyColumns(key))
    .update({
      hit_count: db.raw('hit_count + 1'),
      saved_cost: db.raw('saved_cost + ?', [saved ?? 0]),
      last_hit_at: now,
    });
  await addSpend(db, key.provider, day, { cost: 0, calls: 0, cacheHits: 1, saved: saved ?? 0 }, now);
}

/**
 * Stores an answer. One already stored for the key is kept (a concurrent
 * call answered first), unless `replace`: an operator's re-run asked again
 * on purpose, and its answer is the one to reuse from now on.
 */
export async function saveCachedAnswer(
  db: Db,
  key: ProviderCacheKey,
  answer: CachedProviderAnswer,
  replace = false,
  now = Date.now(),
): Promise<void> {
  const row = {
    ...keyColumns(key),
    answer: JSON.stringify(answer.report),
    cost: answer.cost,
    created_at: now,
  };
  const insert = db('provider_cache')
    .insert(row)
    .onConflict(['sha256', 'provider', 'model', 'prompt_version']);
  await (replace ? insert.merge({ answer: row.answer, cost: row.cost, created_at: now }) : insert.ignore());
}

export interface CacheTotals {
  provider: string;
  entries: number;
  hits: number;
  saved: number;
}

/** Per provider: answers stored, hits served, money not spent (for `doctor`). */
export async function cacheTotals(db: Db): Promise<CacheTotals[]> {
  const rows = (await db('provider_cache')
    .select('provider')
    .count({ entries: '*' })
    .sum({ hits: 'hit_count', saved: 'saved_cost' })
    .groupBy('provider')
    .orderBy('provider')) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    provider: String(row.provider),
    entries: Number(row.entries),
    hits: Number(row.hits ?? 0),
    saved: Number(row.saved ?? 0),
  }));
}
