/**
 * One fresh, migrated database per test file (graphile-worker / pg-boss
 * style): a new SQLite file, or a new MySQL database on the shared server,
 * dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { connectDatabase, type Db } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { migrateLatest } from '../../src/db/migrate.js';

export type Dialect = 'sqlite' | 'mysql';

export interface TestDatabase {
  dialect: Dialect;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export function availableDialects(): Dialect[] {
  return inject('mysqlUrl') ? ['sqlite', 'mysql'] : ['sqlite'];
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = `mw_test_${randomBytes(5).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-sqlite-'));
    const url = `sqlite:${path.join(dir, `${name}.sqlite`)}`;
    const db = connectDatabase(parseDatabaseUrl(url));
    await migrateLatest(db);
    return {
      dialect,
      url,
      db,
      drop: async () => {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = inject('mysqlUrl');
  if (!serverUrl) throw new Error('no MySQL server for this run');
  const admin = connectDatabase(parseDatabaseUrl(serverUrl));
  await admin.raw(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  await admin.destroy();
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const db = connectDatabase(parseDatabaseUrl(url));
  await migrateLatest(db);
  return {
    dialect,
    url,
    db,
    drop: async () => {
      await db.raw(`DROP DATABASE ${name}`);
      await db.destroy();
    },
  };
}
