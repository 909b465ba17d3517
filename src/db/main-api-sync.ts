/**
 * Keeping our items in step with the main API's pending list: importing new
 * uploads exactly once (several workers may poll at once), re-sending lost
 * callbacks, failing uploads that vanished before retrieval as GONE, and the
 * once-only outbox of failure reports (DELETE cleanup).
 */
import type { Db } from './connect.js';
import { insertEvent } from './fenced-update.js';
import { failUnclaimedItem } from './item-transitions.js';
import { insertMedia, type NewMedia } from './insert-media.js';

const CHUNK = 500;

/** main_api_ids among `ids` that we already have. */
export async function knownMainApiIds(db: Db, ids: readonly number[]): Promise<Set<number>> {
  const known = new Set<number>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = (await db('media_files')
      .select('main_api_id')
      .whereIn('main_api_id', ids.slice(i, i + CHUNK))) as Array<{ main_api_id: number | string }>;
    for (const row of rows) known.add(Number(row.main_api_id));
  }
  return known;
}

function isDuplicateKey(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Inserts an upload unless another worker already did (the unique main_api_id decides). */
export async function importUpload(db: Db, media: NewMedia): Promise<number | undefined> {
  try {
    return await insertMedia(db, media);
  } catch (error) {
    if (isDuplicateKey(error)) return undefined;
    throw error;
  }
}

/** Completed uploads still listed as pending upstream (a lost callback), completed before `before`. */
export async function completedButStillPending(
  db: Db,
  mainApiIds: readonly number[],
  before: number,
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < mainApiIds.length; i += CHUNK) {
    const rows = (await db('media_files')
      .select('id')
      .where({ source: 'main_api', status: 'completed' })
      .andWhere('completed_at', '<', before)
      .whereIn('main_api_id', mainApiIds.slice(i, i + CHUNK))) as Array<{ id: number | string }>;
    ids.push(...rows.map((row) => Number(row.id)));
  }
  return ids;
}

/**
 * Uploads created before `listedAt`, not yet retrieved and not held by a
 * worker, that the (complete) pending list no longer names: they are gone.
 */
export async function failVanishedUploads(
  db: Db,
  pendingMainApiIds: ReadonlySet<number>,
  listedAt: number,
): Promise<number[]> {
  const candidates = (await db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .select('m.id', 'm.main_api_id')
    .where({ 'm.source': 'main_api', 'c.state': 'queued', 'c.retrieve_file': 'pending' })
    .whereNull('c.claim_token')
    .andWhere('m.created_at', '<', listedAt)) as Array<{ id: number | string; main_api_id: number | string }>;
  const gone: number[] = [];
  const message = 'the upload disappeared from the main API pending list before it was retrieved';
  for (const row of candidates.filter((r) => !pendingMainApiIds.has(Number(r.main_api_id)))) {
    const id = Number(row.id);
    const failure = { step: 'retrieve' as const, errorClass: 'GONE' as const, message };
    if (await failUnclaimedItem(db, id, failure, { state: 'queued', retrieve_file: 'pending' }))
      gone.push(id);
  }
  return gone;
}

export interface FailureToReport {
  id: number;
  mainApiId: number;
}

/** Permanently failed main API uploads not yet reported, each claimed so only one worker reports it. */
export async function claimFailuresToReport(db: Db, limit: number): Promise<FailureToReport[]> {
  const rows = (await db('media_files as m')
    .join('processing_checklist as c', 'c.media_id', 'm.id')
    .select('m.id', 'm.main_api_id')
    .where({ 'm.source': 'main_api', 'm.status': 'failed' })
    .whereIn('c.last_error_class', ['INVALID_INPUT', 'GONE'])
    .whereNull('m.failure_reported_at')
    .limit(limit)) as Array<{ id: number | string; main_api_id: number | string }>;
  const claimed: FailureToReport[] = [];
  for (const row of rows) {
    const matched = await db('media_files')
      .where({ id: row.id })
      .whereNull('failure_reported_at')
      .update({ failure_reported_at: Date.now() });
    if (matched === 1) claimed.push({ id: Number(row.id), mainApiId: Number(row.main_api_id) });
  }
  return claimed;
}

export async function releaseFailureReport(db: Db, id: number): Promise<void> {
  await db('media_files').where({ id }).update({ failure_reported_at: null });
}

export async function recordFailureReported(db: Db, id: number): Promise<void> {
  await insertEvent(db, id, null, {
    event: 'failure_reported',
    message: 'DELETE /api/media/cleanup sent to the main API',
  });
}
