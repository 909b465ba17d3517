/**
 * A requeue racing a worker, on each database (issue 16, D6): the reset is
 * planned from the rows as read and applied only if the checklist is still
 * so, so a worker that finished the item in between is not overwritten from
 * stale state; an item a worker holds a live lease on is left alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChecklist, findMedia } from '../../src/db/records.js';
import {
  applyRequeue,
  CHANGED,
  planRequeue,
  requeueItems,
  SERVED_NEEDS_STEP,
} from '../../src/db/requeue-items.js';
import { addItems, claimOne, makeWorker } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { trivialSteps } from '../helpers/trivial-steps.js';

describe.each(availableDialects())('requeue racing a worker on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-requeue-race-'));
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a worker finishing the item between the read and the reset wins: nothing is reset from stale state', async () => {
    const [id] = await addItems(t.db, 1);
    const plan = await planRequeue(t.db, id!, undefined);
    expect(plan).toMatchObject({ start: 'retrieve', seen: { state: 'queued' } });
    // The worker finishes it after the requeue read it, before the requeue writes.
    await makeWorker(t.db, trivialSteps({ runLog: path.join(dir, 'runs.log'), workerId: 'w1' })).run();
    expect((await findMedia(t.db, id!))?.status).toBe('completed');
    if ('refused' in plan) throw new Error(plan.refused);
    expect(await applyRequeue(t.db, id!, plan)).toBe(CHANGED);
    expect((await findMedia(t.db, id!))?.status).toBe('completed');
    expect((await findChecklist(t.db, id!))?.state).toBe('completed');
    // Read again, the item is served: with no step named it is not requeued.
    // (The trivial worker has no analyse or resize step: marked done, as the real steps leave them.)
    await t
      .db('processing_checklist')
      .where({ media_id: id })
      .update({ ai_visual_analysis: 'skipped', resize_optimize: 'skipped' });
    expect(await requeueItems(t.db, [id!])).toEqual({
      requeued: [],
      skipped: [{ id: id!, reason: SERVED_NEEDS_STEP }],
    });
  });

  it('an item a worker holds a live lease on is skipped, naming the worker, and keeps its claim', async () => {
    const [id] = await addItems(t.db, 1);
    const claimed = await claimOne(t.db, 'w2');
    expect(claimed.mediaId).toBe(id);
    expect(await requeueItems(t.db, [id!], 'retrieve')).toEqual({
      requeued: [],
      skipped: [{ id: id!, reason: 'being processed by w2' }],
    });
    expect((await findChecklist(t.db, id!))?.worker_id).toBe('w2');
  });
});
