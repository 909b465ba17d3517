/**
 * "Served from the end of resize": an item whose variants are stored is
 * completed and served whatever happens next (the callback held back, a
 * shutdown), and a served item being re-rendered stays served even when the
 * re-render is lost with a dead worker. Real runner, real databases.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAttempt } from '../../src/db/item-transitions.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { requeueItems } from '../../src/db/requeue-items.js';
import { silentLogger } from '../../src/log.js';
import { runClaimedItem, type ItemRunnerOptions } from '../../src/queue/run-item.js';
import type { Step } from '../../src/steps/step.js';
import { addItems, claimOne } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ok = (name: Step['name']): Step => ({
  name,
  run: () =>
    Promise.resolve(
      name === 'retrieve'
        ? { status: 'completed', mediaChanges: { bulk_path: 'bulk/2026-12-01/1.jpg', width: 10, height: 10 } }
        : { status: 'completed' },
    ),
});

describe.each(availableDialects())('served items on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await t.db('media_files').delete();
  });

  const runner = (steps: Step[], maxAttempts = 3): ItemRunnerOptions => ({
    db: t.db,
    steps,
    workerId: 'B',
    maxAttempts,
    retryBaseMs: 10,
    retryMaxMs: 100,
    healIntervalMs: 3_600_000,
    authPauseMs: 1000,
    log: silentLogger(),
  });

  it('serves an item once resize is done, while its callback is held back', async () => {
    const [id] = await addItems(t.db, 1);
    const heldCallback: Step = { ...ok('callback'), heldUntilMs: () => Date.now() + 60_000 };
    const steps = [ok('retrieve'), ok('analyse'), ok('resize'), heldCallback];
    const outcome = await runClaimedItem(
      runner(steps),
      await claimOne(t.db, 'B'),
      new AbortController().signal,
    );
    expect(outcome).toBe('released');
    expect((await findChecklist(t.db, id!))!).toMatchObject({
      resize_optimize: 'completed',
      state: 'queued',
    });
    const media = (await findMedia(t.db, id!))!;
    expect(media.status).toBe('completed');
    expect(media.completed_at).toEqual(expect.any(Number));
  });

  it('keeps a served item served when its re-render dies with a worker and runs out of attempts', async () => {
    const [id] = await addItems(t.db, 1);
    const steps = [ok('retrieve'), ok('analyse'), ok('resize'), ok('callback')];
    expect(await runClaimedItem(runner(steps), await claimOne(t.db, 'B'), new AbortController().signal)).toBe(
      'completed',
    );
    const served = (await findMedia(t.db, id!))!;
    expect(served.status).toBe('completed');

    expect((await requeueItems(t.db, [id!], 'resize')).requeued).toEqual([id]);
    const dead = await claimOne(t.db, 'dead');
    // As the runner starts a re-render: the item was served when claimed, so its status is left alone.
    const deadGuard = { mediaId: id!, claimToken: dead.claimToken, workerId: 'dead' };
    await startAttempt(t.db, deadGuard, 'resize', 1, { servable: true });
    // The worker dies mid-resize; the lease runs out and B takes the item over.
    const takeover = await claimOne(t.db, 'B', Date.now() + 1500);
    expect(takeover.takenOverFrom).toBe('dead');
    expect(await runClaimedItem(runner(steps, 1), takeover, new AbortController().signal)).toBe('failed');

    expect((await findChecklist(t.db, id!))!).toMatchObject({ state: 'failed', failed_step: 'resize' });
    expect((await findMedia(t.db, id!))!).toMatchObject({
      status: 'completed',
      completed_at: served.completed_at,
    });
  });
});
