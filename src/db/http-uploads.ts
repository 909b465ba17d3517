/**
 * Registering an upload that came over HTTP, idempotently. The media row
 * (with the caller's Idempotency-Key, the sha256 of the bytes and the
 * incoming/ object holding them) is inserted like any other upload's. When
 * the caller's key was used before, the earlier item is answered instead:
 * the same bytes with the same fields are a repeat; other bytes, or another
 * user_id, role or is_test_data, a conflict (answering the earlier item
 * would silently file the upload under what the first request said). Two requests racing
 * with one key are decided by the unique index (owner, key): the loser reads
 * the winner's row. An insert repeated after a lost commit answer finds its
 * own row by the unique incoming_key.
 */
import type { Db } from './connect.js';
import { insertMedia, type NewMedia } from './insert-media.js';
import { isDuplicateKey } from './main-api-sync.js';
import { toBoolean, toNumber, toText } from './row-values.js';

export interface HttpUpload extends Omit<NewMedia, 'source' | 'sourcePath' | 'idempotency'> {
  /** The API key's name: Idempotency-Keys are scoped to it. */
  owner: string;
  idempotencyKey: string | null;
  sha256: string;
  /** Where the bytes were stored (incoming/…): the item's source_path. */
  incomingKey: string;
}

export type Registration =
  | { outcome: 'created'; id: number }
  /** The key was used before for the same bytes: that item, and where its bytes are. */
  | { outcome: 'repeated'; id: number; incomingKey: string }
  /** The key was used before for other bytes (differs: 'bytes'), or the same bytes with another field. */
  | { outcome: 'conflict'; id: number; incomingKey: string; differs: ConflictingPart };

/** What a repeated Idempotency-Key's request changed: its bytes, or a field (with the earlier value). */
export type ConflictingPart =
  { part: 'bytes' } | { part: 'user_id' | 'role' | 'is_test_data'; earlier: number | string | boolean };

type Earlier = Exclude<Registration, { outcome: 'created' }>;

export async function registerHttpUpload(
  db: Db,
  upload: HttpUpload,
  now = Date.now(),
): Promise<Registration> {
  const { owner, idempotencyKey, sha256, incomingKey, ...media } = upload;
  if (idempotencyKey !== null) {
    const earlier = await findByIdempotencyKey(db, owner, idempotencyKey, upload);
    if (earlier) return earlier;
  }
  const idempotency = { owner, key: idempotencyKey, submittedSha256: sha256, incomingKey };
  try {
    const id = await insertMedia(db, { ...media, source: 'http', sourcePath: incomingKey, idempotency }, now);
    return { outcome: 'created', id };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const own = await findByIncomingKey(db, incomingKey);
    if (own !== undefined) return { outcome: 'created', id: own };
    const winner =
      idempotencyKey === null ? undefined : await findByIdempotencyKey(db, owner, idempotencyKey, upload);
    if (!winner) throw error;
    return winner;
  }
}

async function findByIdempotencyKey(
  db: Db,
  owner: string,
  key: string,
  upload: HttpUpload,
): Promise<Earlier | undefined> {
  const row = (await db('media_files')
    .select('id', 'submitted_sha256', 'source_path', 'user_id', 'role', 'is_test_data')
    .where({ idempotency_owner: owner, idempotency_key: key })
    .first()) as
    | Record<'id' | 'submitted_sha256' | 'source_path' | 'user_id' | 'role' | 'is_test_data', unknown>
    | undefined;
  if (!row) return undefined;
  const earlier = { id: toNumber(row.id), incomingKey: toText(row.source_path) };
  const differs = conflictingPart(row, upload);
  return differs ? { outcome: 'conflict', differs, ...earlier } : { outcome: 'repeated', ...earlier };
}

/** The first thing a repeat changed from the earlier request: its bytes, then the fields that file the item. */
function conflictingPart(row: Record<string, unknown>, upload: HttpUpload): ConflictingPart | undefined {
  if (toText(row.submitted_sha256) !== upload.sha256) return { part: 'bytes' };
  const userId = toNumber(row.user_id);
  if (userId !== upload.userId) return { part: 'user_id', earlier: userId };
  const role = toText(row.role);
  if (role !== upload.role) return { part: 'role', earlier: role };
  const isTestData = toBoolean(row.is_test_data);
  if (isTestData !== (upload.isTestData ?? false)) return { part: 'is_test_data', earlier: isTestData };
  return undefined;
}

async function findByIncomingKey(db: Db, incomingKey: string): Promise<number | undefined> {
  const row = (await db('media_files').select('id').where({ incoming_key: incomingKey }).first()) as
    { id: unknown } | undefined;
  return row && toNumber(row.id);
}
