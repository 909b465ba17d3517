/**
 * /healthz: the process answers. /readyz: it can do its job — the database
 * answers, storage takes a write (a bucket answers a listing, and the local
 * scratch directory takes a write), the local disk is below the alert threshold, and
 * the main API is not refusing our key — with a JSON body naming each check.
 * It also shows the fleet-wide pause (`paused`, and the check of that name),
 * which never makes the process unready: a paused worker still serves.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { readPauseState, type PauseState } from '../db/fleet-pause.js';
import { pingDatabase } from '../db/ping.js';
import { firstLine } from '../repeated-problem.js';
import { diskUsage } from '../storage/disk-usage.js';

export interface ReadinessOptions {
  db: Db;
  /** Throws, saying why, unless media can be stored and read (object-store-for.ts checkStorage). */
  checkStorage: () => Promise<void>;
  /** The local directory whose disk fills: STORAGE_DIR, or the scratch directory on a bucket. */
  localDiskDir: string;
  diskAlertPercent: number;
  /** Why main API traffic is paused, or undefined when it is not. */
  mainApiAuthProblem: () => string | undefined;
}

type Check = { ok: true; detail?: string } | { ok: false; detail: string };

/**
 * Each check gets this long. An unanswered check (a database host that drops
 * packets, a hung file system) must fail /readyz, not hang it: a load
 * balancer's probe would otherwise pile up connections and never get an answer.
 */
export const CHECK_TIMEOUT_MS = 2000;

async function check(name: string, run: () => Promise<string | undefined>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} check timed out after ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    const detail = await Promise.race([run(), timeout]);
    return detail === undefined ? { ok: true } : { ok: true, detail };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** All checks at once, each with its own timeout, so one slow check cannot hide the others' answers. */
type ReadinessChecks = Record<'database' | 'storage' | 'disk' | 'mainApi' | 'paused', Check>;

export async function readiness(options: ReadinessOptions): Promise<ReadinessChecks> {
  const [database, storage, disk, mainApi, paused] = await Promise.all([
    check('database', async () => {
      try {
        await pingDatabase(options.db);
      } catch (error) {
        throw new Error(`database unreachable: ${firstLine(error)}`);
      }
      return undefined;
    }),
    check('storage', async () => {
      await options.checkStorage();
      return undefined;
    }),
    check('disk', async () => {
      const { usedPercent } = await diskUsage(options.localDiskDir);
      const detail = `${usedPercent}% used (alert at ${options.diskAlertPercent}%)`;
      if (usedPercent >= options.diskAlertPercent) throw new Error(detail);
      return detail;
    }),
    check('mainApi', () => {
      const problem = options.mainApiAuthProblem();
      return problem ? Promise.reject(new Error(problem)) : Promise.resolve(undefined);
    }),
    check('paused', async () => pauseDetail(await readPauseState(options.db).catch(() => undefined))),
  ]);
  return { database, storage, disk, mainApi, paused };
}

const NOT_PAUSED = 'not paused';

/** Always ok (a pause is a decision, not a fault); the detail says by whom and since when. */
function pauseDetail(state: PauseState | undefined): string {
  if (!state) return 'unknown: the pause could not be read';
  if (!state.paused) return NOT_PAUSED;
  const since = state.pausedAt === null ? '' : ` since ${new Date(state.pausedAt).toISOString()}`;
  return `paused by ${state.pausedBy ?? 'unknown'}${since}${state.reason ? `: ${state.reason}` : ''}`;
}

/** The body's `paused`: true, false, or null when the pause could not be read. */
function isPaused(check: Check): boolean | null {
  if (!check.ok || check.detail?.startsWith('unknown')) return null;
  return check.detail !== NOT_PAUSED;
}

export function registerHealthRoutes(app: FastifyInstance, options: ReadinessOptions): void {
  app.get('/healthz', { schema: { summary: 'The process answers', tags: ['health'] } }, () => ({
    status: 'ok',
  }));
  const readyz = {
    summary: 'The process can do its job: each check named (200 ready, 503 not)',
    tags: ['health'],
  };
  app.get('/readyz', { schema: readyz }, async (_request, reply) => {
    const checks = await readiness(options);
    const ready = Object.values(checks).every((c) => c.ok);
    const paused = isPaused(checks.paused);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', paused, checks });
  });
}
