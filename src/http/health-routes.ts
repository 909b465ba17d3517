/**
 * /healthz: the process answers. /readyz: it can do its job — the database
 * answers, storage takes a write, the disk is below the alert threshold, and
 * the main API is not refusing our key — with a JSON body naming each check.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import { diskUsage } from '../storage/disk-usage.js';
import type { Storage } from '../storage/storage.js';

export interface ReadinessOptions {
  db: Db;
  storage: Storage;
  diskAlertPercent: number;
  /** Why main API traffic is paused, or undefined when it is not. */
  mainApiAuthProblem: () => string | undefined;
}

type Check = { ok: true; detail?: string } | { ok: false; detail: string };

async function check(run: () => Promise<string | undefined>): Promise<Check> {
  try {
    const detail = await run();
    return detail === undefined ? { ok: true } : { ok: true, detail };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

export async function readiness(options: ReadinessOptions): Promise<Record<string, Check>> {
  return {
    database: await check(async () => {
      await options.db.raw('select 1');
      return undefined;
    }),
    storage: await check(async () => {
      const probe = `.readyz-${process.pid}`;
      await options.storage.writeAtomic(probe, Buffer.from('ok'));
      await options.storage.remove(probe);
      return undefined;
    }),
    disk: await check(async () => {
      const { usedPercent } = await diskUsage(options.storage.root);
      const detail = `${usedPercent}% used (alert at ${options.diskAlertPercent}%)`;
      if (usedPercent >= options.diskAlertPercent) throw new Error(detail);
      return detail;
    }),
    mainApi: await check(() => {
      const problem = options.mainApiAuthProblem();
      return problem ? Promise.reject(new Error(problem)) : Promise.resolve(undefined);
    }),
  };
}

export function registerHealthRoutes(app: FastifyInstance, options: ReadinessOptions): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await readiness(options);
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
