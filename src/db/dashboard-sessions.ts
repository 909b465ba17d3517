/**
 * The dashboard's session rows (migration 20261201060000): created at login,
 * looked up by the sha256 of the cookie's id on every page, touched at most
 * once a minute (a page view is not worth a write each time), deleted at
 * logout, and swept once expired.
 */
import type { Db } from './connect.js';
import { readColumns, toNumber, toText, type ColumnReaders, type RawRow } from './row-values.js';

export type SessionRole = 'admin' | 'read';

export interface DashboardSession {
  idHash: string;
  keyName: string;
  role: SessionRole;
  /** sha256 (hex) of the key the session logged in with. */
  keyDigest: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

interface SessionRow {
  id_hash: string;
  key_name: string;
  role: SessionRole;
  key_digest: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

const READERS: ColumnReaders<SessionRow> = {
  id_hash: toText,
  key_name: toText,
  role: toText<SessionRole>,
  key_digest: toText,
  csrf_token: toText,
  created_at: toNumber,
  last_seen_at: toNumber,
  expires_at: toNumber,
};

const TOUCH_EVERY_MS = 60_000;

export async function insertSession(db: Db, session: DashboardSession): Promise<void> {
  await db('dashboard_sessions').insert({
    id_hash: session.idHash,
    key_name: session.keyName,
    role: session.role,
    key_digest: session.keyDigest,
    csrf_token: session.csrfToken,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
  });
}

/** The live session with this id hash, or undefined (unknown, expired, or idle for `idleMs`). */
export async function findSession(
  db: Db,
  idHash: string,
  now: number,
  idleMs: number,
): Promise<DashboardSession | undefined> {
  const raw = (await db('dashboard_sessions').where({ id_hash: idHash }).first()) as
    RawRow<SessionRow> | undefined;
  if (!raw) return undefined;
  const row = readColumns(READERS, raw);
  if (row.expires_at <= now || row.last_seen_at <= now - idleMs) return undefined;
  return {
    idHash: row.id_hash,
    keyName: row.key_name,
    role: row.role,
    keyDigest: row.key_digest,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/** Records activity (for the idle timeout), at most once a minute per session. */
export async function touchSession(db: Db, session: DashboardSession, now: number): Promise<void> {
  if (now - session.lastSeenAt < TOUCH_EVERY_MS) return;
  await db('dashboard_sessions').where({ id_hash: session.idHash }).update({ last_seen_at: now });
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db('dashboard_sessions').where({ id_hash: idHash }).delete();
}

/** Deletes sessions that expired, or sat idle past `idleMs`; returns how many. */
export async function sweepSessions(db: Db, now: number, idleMs: number): Promise<number> {
  return db('dashboard_sessions')
    .where('expires_at', '<=', now)
    .orWhere('last_seen_at', '<=', now - idleMs)
    .delete();
}
