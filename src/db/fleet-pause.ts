/**
 * The fleet-wide pause: one row of `fleet_state` that every worker reads
 * before it claims. Kept in the database so that a pause given on one VM
 * stops the workers of all of them.
 */
import type { Db } from './connect.js';
import {
  readColumns,
  toBoolean,
  toNumberOrNull,
  toTextOrNull,
  type ColumnReaders,
  type RawRow,
} from './row-values.js';

export interface PauseState {
  paused: boolean;
  /** Who paused (the audit's actor), when, and why; null while not paused. */
  pausedBy: string | null;
  pausedAt: number | null;
  reason: string | null;
}

interface FleetStateRow {
  paused: boolean;
  paused_by: string | null;
  paused_at: number | null;
  reason: string | null;
}

const READERS: ColumnReaders<FleetStateRow> = {
  paused: toBoolean,
  paused_by: toTextOrNull,
  paused_at: toNumberOrNull,
  reason: toTextOrNull,
};

const NOT_PAUSED: PauseState = { paused: false, pausedBy: null, pausedAt: null, reason: null };
const FLEET_ROW = 1;

/** One primary-key read: cheap enough for every worker to do once per poll. */
export async function readPauseState(db: Db): Promise<PauseState> {
  const raw = (await db('fleet_state')
    .select('paused', 'paused_by', 'paused_at', 'reason')
    .where({ id: FLEET_ROW })
    .first()) as RawRow<FleetStateRow> | undefined;
  if (!raw) return NOT_PAUSED;
  const row = readColumns(READERS, raw);
  return row.paused
    ? { paused: true, pausedBy: row.paused_by, pausedAt: row.paused_at, reason: row.reason }
    : NOT_PAUSED;
}

export interface PauseChange {
  /** False when the fleet was already in the asked-for state (then the earlier pause is kept as it was). */
  changed: boolean;
  state: PauseState;
}

/** Pauses the fleet; an existing pause keeps its author, time and reason. */
export async function pauseFleet(
  db: Db,
  by: string,
  reason: string | null,
  now = Date.now(),
): Promise<PauseChange> {
  await ensureFleetRow(db, now);
  const matched = await db('fleet_state')
    .where({ id: FLEET_ROW, paused: false })
    .update({ paused: true, paused_by: by, paused_at: now, reason, updated_at: now });
  return { changed: matched > 0, state: await readPauseState(db) };
}

export async function resumeFleet(db: Db, now = Date.now()): Promise<PauseChange> {
  await ensureFleetRow(db, now);
  const matched = await db('fleet_state')
    .where({ id: FLEET_ROW, paused: true })
    .update({ paused: false, paused_by: null, paused_at: null, reason: null, updated_at: now });
  return { changed: matched > 0, state: await readPauseState(db) };
}

/** The migration inserts the row; this only guards against it having been deleted by hand. */
async function ensureFleetRow(db: Db, now: number): Promise<void> {
  await db('fleet_state').insert({ id: FLEET_ROW, paused: false, updated_at: now }).onConflict('id').ignore();
}
