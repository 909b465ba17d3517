/**
 * Read-only commands (stats, show) on a database that is not there yet: one
 * line saying what to do, instead of creating an empty SQLite file and then
 * failing with "no such table".
 */
import fs from 'node:fs';
import { MIGRATIONS } from '../../migrations/index.js';
import type { Db } from './connect.js';
import { DatabaseConfigError } from './database-problem.js';
import type { DatabaseTarget } from './database-url.js';

export function assertDatabaseExists(target: DatabaseTarget): void {
  if (target.client === 'sqlite' && !fs.existsSync(target.filename)) {
    throw new DatabaseConfigError(
      `DATABASE_URL ${target.url}: no such SQLite file; run \`media-worker migrate\` first (or fix DATABASE_URL)`,
    );
  }
}

/** Read without writing: knex's own migration listing would create its table. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  if (!(await db.schema.hasTable('knex_migrations'))) return MIGRATIONS.map((m) => m.name);
  const applied = new Set(
    ((await db('knex_migrations').select('name')) as Array<{ name: string }>).map((row) => row.name),
  );
  return MIGRATIONS.map((m) => m.name).filter((name) => !applied.has(name));
}

export async function assertMigrated(db: Db, target: DatabaseTarget): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length === 0) return;
  const state =
    pending.length === MIGRATIONS.length
      ? 'has no media-worker tables'
      : `lacks ${pending.length} of ${MIGRATIONS.length} migrations`;
  throw new DatabaseConfigError(
    `DATABASE_URL ${target.url} ${state}: run \`media-worker migrate\` first (or fix DATABASE_URL)`,
  );
}
