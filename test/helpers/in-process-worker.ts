/** Builds a real WorkerLoop in the test process, with test-sized timings. */
import { claimItems, type ClaimedItem } from '../../src/db/claim-items.js';
import type { Db } from '../../src/db/connect.js';
import { insertMedia } from '../../src/db/insert-media.js';
import { silentLogger } from '../../src/log.js';
import { WorkerLoop, type WorkerLoopOptions } from '../../src/queue/worker-loop.js';
import type { Step } from '../../src/steps/step.js';

export function makeWorker(db: Db, steps: Step[], overrides: Partial<WorkerLoopOptions> = {}): WorkerLoop {
  return new WorkerLoop({
    db,
    steps,
    workerId: overrides.workerId ?? 'test-worker',
    version: 'test',
    concurrency: 2,
    leaseMs: 5000,
    pollIntervalMs: 20,
    idleMaxMs: 200,
    maxAttempts: 3,
    retryBaseMs: 40,
    retryMaxMs: 1000,
    healIntervalMs: 3_600_000,
    healBatch: 10,
    healMaxCount: 10,
    healMaxAgeHours: 168,
    shutdownGraceMs: 5000,
    authPauseMs: 1000,
    log: silentLogger(),
    once: true,
    ...overrides,
  });
}

export async function addItems(db: Db, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      await insertMedia(db, {
        source: 'local',
        sourcePath: `/nonexistent/${i}.jpg`,
        userId: 1,
        role: 'product',
        dataType: 'product',
      }),
    );
  }
  return ids;
}

/** Claims the one due item as `workerId` (1 s lease; `now` to claim as if later), or throws. */
export async function claimOne(db: Db, workerId: string, now?: number): Promise<ClaimedItem> {
  const [claimed] = await claimItems(db, { workerId, leaseMs: 1000, limit: 1, ...(now ? { now } : {}) });
  if (!claimed) throw new Error(`${workerId} claimed nothing`);
  return claimed;
}
