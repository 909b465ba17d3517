/**
 * The read queries the overview and workers pages add (src/db/
 * throughput-history.ts, src/db/worker-list.ts) on each database: which
 * events count as finished, which slot they fall in, what each worker
 * holds and at which step, and which workers are listed. No browser: the
 * pages' browser tests run on SQLite only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertEvent } from '../../src/db/fenced-update.js';
import { queueBySteps } from '../../src/db/step-queue.js';
import { throughputHistory } from '../../src/db/throughput-history.js';
import { listRecentWorkers, listWorkerClaims } from '../../src/db/worker-list.js';
import { markWorkerStopped, registerWorker } from '../../src/db/workers.js';
import { addItems, claimOne } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const MINUTE = 60_000;

describe.each(availableDialects())('the dashboard read queries on %s', (dialect) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase(dialect);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('counts items finished per 5 minutes: the item-level completed event and failed events only', async () => {
    const now = Date.now();
    const [a, b, c] = (await addItems(t.db, 3)) as [number, number, number];
    await insertEvent(t.db, a, 'w', { event: 'completed' }, now - 2 * MINUTE);
    await insertEvent(t.db, a, 'w', { step: 'resize', event: 'completed', attempt: 1 }, now - 2 * MINUTE);
    await insertEvent(
      t.db,
      b,
      'w',
      { step: 'retrieve', event: 'failed', errorClass: 'INVALID_INPUT' },
      now - 22 * MINUTE,
    );
    await insertEvent(t.db, c, 'w', { step: 'retrieve', event: 'retry_scheduled' }, now - 3 * MINUTE);
    await insertEvent(t.db, c, 'w', { event: 'completed' }, now - 61 * MINUTE);
    await insertEvent(t.db, c, 'w', { event: 'completed' }, now - 59 * MINUTE);
    const slots = await throughputHistory(t.db, { slotMs: 5 * MINUTE, slots: 12, now });
    expect(slots).toHaveLength(12);
    expect(slots[0]!.startAt).toBe(now - 60 * MINUTE);
    const shown = slots.map((s) => [s.completed, s.failed]);
    const expected = Array.from({ length: 12 }, () => [0, 0]);
    expected[0] = [1, 0]; // 59 min ago
    expected[7] = [0, 1]; // 22 min ago: [25, 20) min ago
    expected[11] = [1, 0]; // 2 min ago
    expect(shown).toEqual(expected);
  });

  it('lists what each worker holds at which step, and the workers seen lately, stopped ones too', async () => {
    await registerWorker(t.db, 'w-live', 'test', 2);
    await registerWorker(t.db, 'w-stopped', 'test', 1);
    await markWorkerStopped(t.db, 'w-stopped');
    await registerWorker(t.db, 'w-old', 'test', 1);
    await t
      .db('workers')
      .where({ worker_id: 'w-old' })
      .update({ heartbeat_at: Date.now() - 3 * 24 * 60 * MINUTE });
    const [first, second] = (await addItems(t.db, 3)) as [number, number];
    await claimOne(t.db, 'w-live');
    await claimOne(t.db, 'w-live');
    await t.db('processing_checklist').where({ media_id: second }).update({ retrieve_file: 'completed' });

    expect(await queueBySteps(t.db)).toEqual({
      retrieve: { inProgress: 1, queued: 1 },
      analyse: { inProgress: 1, queued: 0 },
      resize: { inProgress: 0, queued: 0 },
      callback: { inProgress: 0, queued: 0 },
    });
    const claims = await listWorkerClaims(t.db);
    expect([...claims.keys()]).toEqual(['w-live']);
    expect(claims.get('w-live')!.map((c) => [c.mediaId, c.step])).toEqual([
      [first, 'retrieve'],
      [second, 'analyse'],
    ]);
    const workers = await listRecentWorkers(t.db, 24 * 60 * MINUTE);
    expect(workers.map((w) => w.worker_id).sort()).toEqual(['w-live', 'w-stopped']);
    const stopped = workers.find((w) => w.worker_id === 'w-stopped')!;
    expect(typeof stopped.stopped_at).toBe('number');
    expect(typeof stopped.heartbeat_at).toBe('number');
    expect(workers.find((w) => w.worker_id === 'w-live')!.stopped_at).toBeNull();
  });
});
