/**
 * Settings shared by the chaos scenarios: the environment of every
 * `media-worker run` process (short leases, retries, polls and heals so that
 * recovery happens inside a run of a minute or two), and whether a MariaDB is
 * available at all.
 */
import { inject } from 'vitest';

export const CHAOS_KEY = 'chaos-secret-key';
export const PUBLIC_BASE_URL = 'https://media.example.org';
export const LEASE_MS = 3000;
export const POLL_INTERVAL_MS = 300;
export const IDLE_MAX_MS = 1000;

export interface WorkerEnvOptions {
  databaseUrl: string;
  storageDir: string;
  mainApiUrl: string;
  workerId: string;
  httpPort: number;
  extra?: Record<string, string>;
}

export function workerEnv(options: WorkerEnvOptions): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    STORAGE_DIR: options.storageDir,
    MAIN_API_URL: options.mainApiUrl,
    MEDIA_API_KEY: CHAOS_KEY,
    PUBLIC_BASE_URL,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(options.httpPort),
    WORKER_ID: options.workerId,
    CONCURRENCY: '2',
    LEASE_MS: String(LEASE_MS),
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '2000',
    MAX_ATTEMPTS: '4',
    POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    IDLE_MAX_MS: String(IDLE_MAX_MS),
    HEAL_INTERVAL_MS: '1000',
    HEAL_BATCH: '50',
    MAIN_API_TIMEOUT_MS: '4000',
    // A download (headers to last byte) must end within this; older builds ignore the variable.
    DOWNLOAD_DEADLINE_MS: '8000',
    SHUTDOWN_GRACE_MS: '5000',
    ANALYSIS_PROVIDERS: 'local',
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
    ...options.extra,
  };
}

/**
 * Why the chaos suite cannot run here, or undefined when it can. Under CI=true the
 * global setup has already failed the run when no MariaDB exists, so this never
 * skips silently there.
 */
export function mariadbMissing(): string | undefined {
  if (inject('mysqlUrl')) return undefined;
  const reason = 'no MySQL/MariaDB for the chaos suite: install mariadb-server or set TEST_DATABASE_URL';
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  console.warn(`\n*** chaos scenario skipped: ${reason} ***\n`);
  return reason;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `condition` until `timeoutMs`; the error names what was awaited and, if given, what was seen. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  describe?: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await condition();
    } catch {
      ok = false; // the database may be down on purpose: keep waiting
    }
    if (ok) return;
    if (Date.now() > deadline) {
      const seen = describe ? `\n${await describe()}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${seen}`);
    }
    await sleep(250);
  }
}
