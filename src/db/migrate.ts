/** knex migrations from the fixed list in migrations/index.ts: latest, rollback, status. */
import type { Knex } from 'knex';
import { MIGRATIONS, type Migration } from '../../migrations/index.js';
import type { Db } from './connect.js';

const source: Knex.MigrationSource<Migration> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (migration) => migration.name,
  getMigration: (migration) => Promise.resolve(migration),
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
  return applied;
}

export async function migrateRollback(db: Db): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(config)) as [number, string[]];
  return reverted;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  const [completed, pending] = (await db.migrate.list(config)) as [Array<{ name: string }>, Migration[]];
  return { applied: completed.map((m) => m.name), pending: pending.map((m) => m.name) };
}
