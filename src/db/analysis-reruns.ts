/**
 * Re-analysis an operator asked for (`media-worker reanalyse`): one row per
 * item naming the providers whose cached answers its next analyse step must
 * not reuse (`*`: all). The step reads it, and removes it once it has run.
 */
import type { Db } from './connect.js';
import { toText } from './row-values.js';

export const ALL_PROVIDERS = '*';

export async function requestReruns(
  db: Db,
  ids: readonly number[],
  providers: readonly string[],
  requestedBy: string,
  now = Date.now(),
): Promise<void> {
  for (const id of ids) {
    const row = {
      media_id: id,
      providers: (providers.length ? providers.join(',') : ALL_PROVIDERS).slice(0, 200),
      requested_by: requestedBy.slice(0, 128),
      requested_at: now,
    };
    await db('analysis_reruns').insert(row).onConflict('media_id').merge(row);
  }
}

/** The providers an item's re-run bypasses the cache for, or undefined when none was asked for. */
export async function findRerun(db: Db, mediaId: number): Promise<string[] | undefined> {
  const row = (await db('analysis_reruns').where({ media_id: mediaId }).first('providers')) as
    { providers: unknown } | undefined;
  return row ? toText(row.providers).split(',') : undefined;
}

/**
 * Narrows an item's re-run to the providers that did not answer it (paused,
 * over budget, failed): the marker stays for them, so the item's next analyse
 * (the next `reanalyse`, a requeue or a heal from analyse) asks them afresh.
 */
export async function keepRerunFor(db: Db, mediaId: number, providers: readonly string[]): Promise<void> {
  await db('analysis_reruns')
    .where({ media_id: mediaId })
    .update({ providers: providers.join(',').slice(0, 200) });
}

export async function clearRerun(db: Db, mediaId: number): Promise<void> {
  await db('analysis_reruns').where({ media_id: mediaId }).delete();
}

/** Ids of live items created at or after `since` (reanalyse --since), oldest first. */
export async function selectIdsSince(db: Db, since: number): Promise<number[]> {
  const rows = (await db('media_files')
    .select('id')
    .where('created_at', '>=', since)
    .whereNull('deleted_at')
    .orderBy('id')) as Array<{ id: unknown }>;
  return rows.map((row) => Number(row.id));
}
