/**
 * The MySQL/MariaDB form of a fenced write with no custom part: the whole
 * transaction (lock and check the claim, media row, events, checklist) goes
 * to the server as one multi-statement batch, one round trip instead of five
 * or six. A worker's cost per item is dominated by round trips (socket writes
 * and driver work: bench/claim's profile), so this is where claims/s comes
 * from. Every statement after the lock is conditioned on the claim token, so
 * a claim lost to a takeover changes nothing; a batch that fails part-way is
 * rolled back on the same connection before it goes back to the pool.
 */
import type { Db } from './connect.js';
import { leaseLost, type ClaimGuard, type ProcessingEvent } from './fenced-types.js';

export interface BatchChanges {
  checklist: Record<string, unknown>;
  media?: Record<string, unknown>;
  events: ProcessingEvent[];
}

interface Connection {
  query(
    options: { sql: string; values: unknown[] },
    done: (error: Error | null, results: unknown) => void,
  ): void;
}

const OWNED = 'EXISTS (SELECT 1 FROM processing_checklist WHERE media_id = ? AND claim_token = ?)';

/** Column names come from this codebase, never from input; quoting keeps reserved words safe. */
const assignments = (columns: Record<string, unknown>) =>
  Object.keys(columns)
    .map((column) => `\`${column}\` = ?`)
    .join(', ');

/** As knex does: a key whose value is undefined is not written at all. */
export const defined = (columns: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined));

function query(connection: Connection, sql: string, values: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) =>
    connection.query({ sql, values }, (error, results) => (error ? reject(error) : resolve(results))),
  );
}

export function eventColumns(mediaId: number, workerId: string | null, event: ProcessingEvent, at: number) {
  return {
    media_id: mediaId,
    step: event.step ?? null,
    event: event.event,
    attempt: event.attempt ?? null,
    worker_id: workerId,
    error_class: event.errorClass ?? null,
    message: event.message?.slice(0, 4000) ?? null,
    at,
  };
}

function buildBatch(
  guard: ClaimGuard,
  changes: BatchChanges,
  now: number,
): { sql: string; values: unknown[] } {
  const { mediaId, claimToken } = guard;
  const statements = [
    'START TRANSACTION',
    'SELECT COUNT(*) AS held FROM processing_checklist WHERE media_id = ? AND claim_token = ? FOR UPDATE',
  ];
  const values: unknown[] = [mediaId, claimToken];
  if (changes.media) {
    const media = { ...defined(changes.media), updated_at: now };
    statements.push(`UPDATE media_files SET ${assignments(media)} WHERE id = ? AND ${OWNED}`);
    values.push(...Object.values(media), mediaId, mediaId, claimToken);
  }
  for (const event of changes.events) {
    const row = eventColumns(mediaId, guard.workerId, event, now);
    const columns = Object.keys(row).map((column) => `\`${column}\``);
    statements.push(
      `INSERT INTO processing_events (${columns.join(', ')}) SELECT ${columns.map(() => '?').join(', ')} FROM DUAL WHERE ${OWNED}`,
    );
    values.push(...Object.values(row), mediaId, claimToken);
  }
  // Last: a transition that releases the claim clears the token the statements above test.
  const checklist = { ...defined(changes.checklist), updated_at: now };
  statements.push(
    `UPDATE processing_checklist SET ${assignments(checklist)} WHERE media_id = ? AND claim_token = ?`,
  );
  values.push(...Object.values(checklist), mediaId, claimToken);
  statements.push('COMMIT');
  return { sql: statements.join(';\n'), values };
}

export async function fencedBatch(
  db: Db,
  guard: ClaimGuard,
  changes: BatchChanges,
  now: number,
): Promise<void> {
  const { sql, values } = buildBatch(guard, changes, now);
  const client = db.client as {
    acquireConnection(): Promise<Connection>;
    releaseConnection(c: Connection): Promise<void>;
  };
  const connection = await client.acquireConnection();
  let results: unknown[];
  try {
    results = (await query(connection, sql, values)) as unknown[];
  } catch (error) {
    // The server stops a batch at its first error and may leave the transaction open.
    await query(connection, 'ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.releaseConnection(connection);
  }
  const held = Number((results[1] as Array<{ held: number | string }>)[0]?.held ?? 0);
  if (held === 0) throw leaseLost(guard);
}
