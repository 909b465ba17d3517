/** What every command needs: the validated config, a logger and a database, closed afterwards. */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { connectDatabase, type Db } from '../db/connect.js';
import { assertDatabaseExists, assertMigrated } from '../db/schema-check.js';
import { waitForDatabase } from '../db/wait-for-database.js';
import { createLogger, type Logger } from '../log.js';

export interface CommandContext {
  config: Config;
  log: Logger;
  db: Db;
}

/** Loads the config from env + the flags given to this command (and the program's global flags). */
export function configFor(command: Command): Config {
  return loadConfig(process.env, command.optsWithGlobals());
}

export interface DatabaseUse {
  /** stats, show: never create or change anything; refuse a database that is missing or not migrated. */
  readOnly?: boolean;
  /** migrate (systemd's ExecStartPre) waits for the database for ever unless DATABASE_WAIT_MS says otherwise. */
  waitForever?: boolean;
}

/**
 * Runs a data command: logs go to stderr so that stdout holds only the command's output.
 * The database is waited for first (DATABASE_WAIT_MS; 0 by default for commands other than
 * migrate), so an unreachable or refusing database is one line, not a driver's stack trace.
 */
export async function withDatabase<T>(
  command: Command,
  action: (context: CommandContext) => Promise<T>,
  use: DatabaseUse = {},
): Promise<T> {
  const config = configFor(command);
  const log = createLogger(config.logLevel, 'stderr');
  if (use.readOnly) assertDatabaseExists(config.database);
  const db = connectDatabase(config.database, { log, readOnly: use.readOnly === true });
  try {
    const waitMs = config.databaseWaitMs ?? (use.waitForever ? undefined : 0);
    await waitForDatabase(db, { target: config.database, log, waitMs });
    if (use.readOnly) await assertMigrated(db, config.database);
    return await action({ config, log, db });
  } finally {
    await db.destroy();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Plain aligned columns for people; --json is for scripts. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => String(cell).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}
