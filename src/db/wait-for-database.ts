/**
 * Start-up waits for the database instead of exiting at once: a worker that
 * dies on ECONNREFUSED is restarted by systemd a few times and then given up
 * on, so an outage longer than the unit's start limit would leave the service
 * dead. Transient problems are retried with backoff (1 s → 30 s) and logged
 * once per interval; a refusal that can never succeed (wrong password, no
 * such database) is thrown at once as a DatabaseConfigError (exit 2).
 */
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';
import type { Db } from './connect.js';
import {
  DatabaseConfigError,
  DatabaseUnreachableError,
  describeDatabaseProblem,
} from './database-problem.js';
import type { DatabaseTarget } from './database-url.js';
import { pingDatabase } from './ping.js';
import { ReconnectDelay } from './reconnect-delay.js';

export interface WaitOptions {
  target: DatabaseTarget;
  log: Logger;
  /** Give up after this long (0: try once); undefined waits for ever. */
  waitMs: number | undefined;
  /** Aborted by a shutdown signal: stop waiting and resolve false. */
  signal?: AbortSignal;
}

/** Resolves true once `select 1` works, false when aborted; throws when waiting cannot help. */
export async function waitForDatabase(db: Db, options: WaitOptions): Promise<boolean> {
  const startedAt = Date.now();
  const delay = new ReconnectDelay();
  const problem = new RepeatedProblem(options.log, 'database unreachable; waiting for it');
  const stopped = aborted(options.signal);
  while (!options.signal?.aborted) {
    try {
      // A connect that hangs (a host that drops packets) must not hold up a shutdown signal.
      if ((await Promise.race([pingDatabase(db), stopped])) === ABORTED) return false;
      problem.resolved('database reachable');
      return true;
    } catch (error) {
      const { permanent, message } = describeDatabaseProblem(error, options.target);
      if (permanent) throw new DatabaseConfigError(message);
      const waitedMs = Date.now() - startedAt;
      if (options.waitMs !== undefined && waitedMs >= options.waitMs) {
        throw new DatabaseUnreachableError(
          options.waitMs === 0 ? message : `${message} (gave up after DATABASE_WAIT_MS=${options.waitMs})`,
        );
      }
      const next = delay.next();
      problem.report(message, { retryInMs: next, waitedMs });
      const remaining = options.waitMs === undefined ? next : Math.min(next, options.waitMs - waitedMs);
      await sleepUnless(remaining, stopped);
    }
  }
  return false;
}

const ABORTED = Symbol('aborted');

function aborted(signal: AbortSignal | undefined): Promise<typeof ABORTED> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve(ABORTED);
    signal?.addEventListener('abort', () => resolve(ABORTED), { once: true });
  });
}

async function sleepUnless(ms: number, stopped: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), stopped]);
  clearTimeout(timer);
}
