/** Opens the database named by DATABASE_URL: better-sqlite3 or mysql2, both through knex. */
import path from 'node:path';
import knex, { type Knex } from 'knex';
import type { Logger } from '../log.js';
import { makeDirectorySync } from '../storage/make-directory.js';
import { DatabaseConfigError } from './database-problem.js';
import type { DatabaseTarget } from './database-url.js';
import { knexLogFor } from './knex-log.js';

export type Db = Knex;

type SqliteTarget = Extract<DatabaseTarget, { client: 'sqlite' }>;

export interface ConnectOptions {
  /** Where knex's own warnings go (rate-limited); without it they are dropped, never printed raw. */
  log?: Logger;
  /** Read-only commands (stats, show): SQLite is opened read-only, and never created. */
  readOnly?: boolean;
}

const DROP_KNEX_LOG: Knex.Config['log'] = {
  warn: () => undefined,
  error: () => undefined,
  deprecate: () => undefined,
  debug: () => undefined,
};

export function connectDatabase(target: DatabaseTarget, options: ConnectOptions = {}): Db {
  const log = options.log ? knexLogFor(options.log) : DROP_KNEX_LOG;
  if (target.client === 'sqlite') return connectSqlite(target, log, options.readOnly === true);
  return knex({
    log,
    client: 'mysql2',
    connection: {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      connectTimeout: 10_000,
    },
    pool: {
      min: 0,
      max: 8,
      // Every transaction here is short and keyed by primary key or the claim index: READ COMMITTED
      // takes no gap locks, and set once per connection it saves the claim a SET TRANSACTION round trip.
      afterCreate(
        conn: { query(sql: string, done: (err: Error | null) => void): void },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 20_000,
  });
}

function connectSqlite(target: SqliteTarget, log: Knex.Config['log'], readOnly: boolean): Db {
  const { filename } = target;
  try {
    if (!readOnly) makeDirectorySync(path.dirname(filename));
  } catch (error) {
    throw new DatabaseConfigError(`DATABASE_URL ${target.url}: ${(error as Error).message}`);
  }
  return knex({
    client: 'better-sqlite3',
    connection: { filename, options: { readonly: readOnly } },
    useNullAsDefault: true,
    log,
    pool: {
      // WAL lets readers (serve, stats) run beside the writer; busy_timeout
      // makes concurrent writers from several processes wait instead of fail.
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        try {
          if (!readOnly) {
            conn.pragma('journal_mode = WAL');
            conn.pragma('synchronous = NORMAL');
          }
          conn.pragma('busy_timeout = 10000');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        } catch (error) {
          done(error as Error, conn);
        }
      },
    },
  });
}

export function isMysql(db: Db): boolean {
  return (db.client as { config: { client: string } }).config.client === 'mysql2';
}

const RETRYABLE_DB_CODES = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_LOCKED',
]);

/** Deadlocks, lock waits and dropped connections: the same statement will likely work if tried again. */
export function isRetryableDbError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE_DB_CODES.has(code)) return true;
  return error instanceof Error && /Knex: Timeout acquiring a connection/.test(error.message);
}
