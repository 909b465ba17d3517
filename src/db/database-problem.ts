/**
 * Why the database cannot be used, in one line that names DATABASE_URL (its
 * password redacted), and whether waiting could ever help.
 *
 * Permanent (exit 2 at once): the server answered and refused us — wrong user
 * or password, no such database, no grant on it — or a SQLite file that
 * cannot be opened. Only an operator can fix those.
 * Transient (wait with backoff): the server does not answer — refused,
 * reset, timed out, too many connections, starting up or shutting down — and
 * name resolution trouble. EAI_AGAIN is the resolver saying "try again";
 * ENOTFOUND is counted as transient too, because at boot or while a container
 * network is coming up a name that will exist soon is reported as not found,
 * and a worker that exits then only comes back when systemd restarts it. A
 * host name that is really wrong is logged, naming DATABASE_URL, every interval.
 */
import { UsageError, codeInChain } from '../errors.js';
import type { DatabaseTarget } from './database-url.js';

/** The database refuses us for a reason only an operator can fix: exit 2, one line. */
export class DatabaseConfigError extends UsageError {}

/** The database did not answer (within DATABASE_WAIT_MS): exit 1, a runtime failure worth retrying later. */
export class DatabaseUnreachableError extends Error {}

const PERMANENT_CODES: Record<string, string> = {
  ER_ACCESS_DENIED_ERROR: 'refused the user name or password',
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: 'refused the user name or password',
  ER_DBACCESS_DENIED_ERROR: 'refused access to the database',
  ER_BAD_DB_ERROR: 'has no such database',
  ER_NOT_SUPPORTED_AUTH_MODE: 'asks for an authentication method the client does not support',
  SQLITE_CANTOPEN: 'cannot be opened (does its directory exist, and is it writable?)',
  SQLITE_NOTADB: 'is not an SQLite database',
  SQLITE_CORRUPT: 'is corrupt',
};

const TRANSIENT_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there (is the database server running?)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name cannot be resolved right now',
  ETIMEDOUT: 'the server did not answer in time',
};

export interface DatabaseProblem {
  permanent: boolean;
  /** One line, naming DATABASE_URL with its password redacted. */
  message: string;
}

export function describeDatabaseProblem(error: unknown, target: DatabaseTarget): DatabaseProblem {
  const code = codeInChain(error);
  const detail = oneLine(error);
  const where = `DATABASE_URL ${target.url}`;
  const refusal = code === undefined ? undefined : PERMANENT_CODES[code];
  if (refusal !== undefined) {
    const what = target.client === 'sqlite' ? 'the SQLite file' : 'the server';
    return { permanent: true, message: `${where}: ${what} ${refusal} (${detail}); fix DATABASE_URL` };
  }
  const hint = code === undefined ? undefined : TRANSIENT_HINTS[code];
  return { permanent: false, message: `${where} unreachable: ${hint ? `${hint}: ` : ''}${detail}` };
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim() || (codeInChain(error) ?? 'unknown error');
}
