import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MYSQL_CLAIM_SELECT, claimItems } from '../../src/db/claim-items.js';
import { fencedUpdate } from '../../src/db/fenced-update.js';
import { healFailedItems } from '../../src/db/heal-items.js';
import { startAttempt } from '../../src/db/item-transitions.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { InvalidInputError, LeaseLostError, RateLimitError, TransientError } from '../../src/errors.js';
import type { Step } from '../../src/steps/step.js';
import { addItems, makeWorker } from '../helpers/in-process-worker.js';
import { waitFor } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

function failingStep(error: () => Error, calls: number[] = []): Step {
  return {
    name: 'retrieve',
    run: () => {
      calls.push(Date.now());
      return Promise.reject(error());
    },
  };
}
const okStep = (name: Step['name']): Step => ({ name, run: () => Promise.resolve({ status: 'completed' }) });

describe.each(availableDialects())('queue engine on %s', (dialect) => {
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

  it('fails a transient poison item after MAX_ATTEMPTS, backing off between attempts', async () => {
    const [id] = await addItems(t.db, 1);
    const calls: number[] = [];
    await makeWorker(t.db, [
      failingStep(() => new TransientError('upstream 503'), calls),
      okStep('callback'),
    ]).run();
    const checklist = (await findChecklist(t.db, id!))!;
    expect(checklist.state).toBe('failed');
    expect(checklist.retrieve_file).toBe('failed');
    expect(checklist.retrieve_file_attempts).toBe(3);
    expect(checklist.last_error_class).toBe('TRANSIENT');
    expect(checklist.failed_step).toBe('retrieve');
    expect((await findMedia(t.db, id!))!.status).toBe('failed');
    expect(calls).toHaveLength(3);
    // Backoff: each failure scheduled its retry at least the fixed half of the nominal delay
    // (base 40 ms × 2^(n-1)) after the attempt ran, and the retry did not start before that time.
    const retries = (await t
      .db('processing_events')
      .where({ media_id: id, event: 'retry_scheduled' })
      .orderBy('id')
      .pluck('message')) as string[];
    const due = retries.map((message) => Date.parse(/next attempt at (\S+)\)$/.exec(message)![1]!));
    expect(due).toHaveLength(2);
    expect(due[0]!).toBeGreaterThanOrEqual(calls[0]! + 20);
    expect(due[1]!).toBeGreaterThanOrEqual(calls[1]! + 40);
    expect(calls[1]!).toBeGreaterThanOrEqual(due[0]!);
    expect(calls[2]!).toBeGreaterThanOrEqual(due[1]!);
    const events = (await t.db('processing_events').where({ media_id: id }).pluck('event')) as string[];
    expect(events).toEqual([
      'registered',
      'started',
      'retry_scheduled',
      'started',
      'retry_scheduled',
      'started',
      'failed',
    ]);
  });

  it('fails a permanent error after one attempt', async () => {
    const [id] = await addItems(t.db, 1);
    await makeWorker(t.db, [
      failingStep(() => new InvalidInputError('not an image')),
      okStep('callback'),
    ]).run();
    const checklist = (await findChecklist(t.db, id!))!;
    expect(checklist.state).toBe('failed');
    expect(checklist.retrieve_file_attempts).toBe(1);
    expect(checklist.last_error_class).toBe('INVALID_INPUT');
    expect(checklist.last_error).toBe('not an image');
  });

  it('one heal cycle of the daemon heals batch after batch while they come back full', async () => {
    const ids = await addItems(t.db, 25);
    await makeWorker(t.db, [failingStep(() => new TransientError('503')), okStep('callback')], {
      maxAttempts: 1,
    }).run();
    // Due for healing now (failItem set the heal time an hour ahead with the helper's interval).
    await t
      .db('processing_checklist')
      .whereIn('media_id', ids)
      .update({ next_attempt_at: Date.now() - 1 });
    const cycles: number[] = [];
    const worker = makeWorker(t.db, [okStep('retrieve'), okStep('callback')], {
      once: false,
      healIntervalMs: 1000,
      healBatch: 10,
      onHealed: (count) => cycles.push(count),
    });
    const running = worker.run();
    await waitFor(async () => {
      const left = (await t
        .db('processing_checklist')
        .whereNot({ state: 'completed' })
        .count({ n: '*' })) as Array<{
        n: number | string;
      }>;
      return Number(left[0]!.n) === 0;
    }, 'every healed item to complete');
    worker.stop();
    await running;
    expect(cycles[0]).toBe(25); // 10 + 10 + 5 in the first cycle, not 10 per HEAL_INTERVAL_MS
  });

  it('heals only transient failures, never more than the batch, and the healed items complete', async () => {
    const transient = await addItems(t.db, 13);
    await makeWorker(t.db, [failingStep(() => new TransientError('503')), okStep('callback')], {
      maxAttempts: 1,
    }).run();
    const permanent = await addItems(t.db, 3);
    await makeWorker(t.db, [failingStep(() => new InvalidInputError('bad')), okStep('callback')]).run();

    const healed = await healFailedItems(t.db, { limit: 10, ignoreSchedule: true });
    expect(healed).toHaveLength(10);
    expect(healed.every((id) => transient.includes(id))).toBe(true);
    const checklist = (await findChecklist(t.db, healed[0]!))!;
    expect(checklist).toMatchObject({
      state: 'queued',
      retrieve_file: 'pending',
      retrieve_file_attempts: 0,
      heal_count: 1,
    });

    // The daemon's cycle waits for the heal backoff: nothing is due yet.
    expect(await healFailedItems(t.db, { limit: 10 })).toHaveLength(0);

    await makeWorker(t.db, [okStep('retrieve'), okStep('callback')]).run();
    const states = (await t.db('processing_checklist').select('media_id', 'state')) as Array<{
      media_id: number;
      state: string;
    }>;
    const byId = new Map(states.map((row) => [Number(row.media_id), row.state]));
    for (const id of healed) expect(byId.get(id)).toBe('completed');
    for (const id of permanent) expect(byId.get(id)).toBe('failed');
    expect(transient.filter((id) => byId.get(id) === 'failed')).toHaveLength(3);
  });

  it('refuses writes from a worker whose lease was taken over (fencing)', async () => {
    const [id] = await addItems(t.db, 1);
    const [first] = await claimItems(t.db, { workerId: 'A', leaseMs: 1000, limit: 1 });
    expect(first).toMatchObject({ mediaId: id, takenOverFrom: null });
    expect(await claimItems(t.db, { workerId: 'B', leaseMs: 1000, limit: 1 })).toHaveLength(0);
    const [second] = await claimItems(t.db, {
      workerId: 'B',
      leaseMs: 1000,
      limit: 1,
      now: Date.now() + 1500,
    });
    expect(second).toMatchObject({ mediaId: id, takenOverFrom: 'A' });
    const guardA = { mediaId: id!, claimToken: first!.claimToken, workerId: 'A' };
    await expect(fencedUpdate(t.db, guardA, { checklist: { state: 'completed' } })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect((await findChecklist(t.db, id!))!.state).toBe('queued');
  });

  it('counts an attempt lost with a dead worker as a transient failure with backoff, then finishes', async () => {
    const [id] = await addItems(t.db, 1);
    const [claim] = await claimItems(t.db, { workerId: 'dead', leaseMs: 1000, limit: 1 });
    await startAttempt(
      t.db,
      { mediaId: id!, claimToken: claim!.claimToken, workerId: 'dead' },
      'retrieve',
      1,
    );
    // The worker dies here; time passes beyond its lease.
    await t
      .db('processing_checklist')
      .where({ media_id: id })
      .update({ lease_expires_at: Date.now() - 1, next_attempt_at: Date.now() - 1 });
    await makeWorker(t.db, [okStep('retrieve'), okStep('callback')]).run();
    const checklist = (await findChecklist(t.db, id!))!;
    expect(checklist).toMatchObject({
      state: 'completed',
      retrieve_file: 'completed',
      retrieve_file_attempts: 2,
    });
    const retry = (await t
      .db('processing_events')
      .where({ media_id: id, event: 'retry_scheduled' })
      .first()) as { message: string; error_class: string };
    expect(retry.error_class).toBe('TRANSIENT');
    expect(retry.message).toMatch(/worker dead stopped during step retrieve \(attempt 1\)/);
  });

  it('does not burn an attempt on a rate limit', async () => {
    const [id] = await addItems(t.db, 1);
    let calls = 0;
    const limited: Step = {
      name: 'retrieve',
      run: () =>
        ++calls === 1
          ? Promise.reject(new RateLimitError('429 from main API', 30))
          : Promise.resolve({ status: 'completed' }),
    };
    await makeWorker(t.db, [limited, okStep('callback')]).run();
    expect(calls).toBe(2);
    expect(await findChecklist(t.db, id!)).toMatchObject({ state: 'completed', retrieve_file_attempts: 1 });
  });

  it('resumes after completed steps instead of redoing them', async () => {
    const [id] = await addItems(t.db, 1);
    let retrieveRuns = 0;
    const retrieve: Step = {
      name: 'retrieve',
      run: () => (retrieveRuns++, Promise.resolve({ status: 'completed' })),
    };
    let callbackRuns = 0;
    const callback: Step = {
      name: 'callback',
      run: () =>
        ++callbackRuns === 1
          ? Promise.reject(new TransientError('503'))
          : Promise.resolve({ status: 'skipped', note: 'nobody to tell' }),
    };
    await makeWorker(t.db, [retrieve, callback]).run();
    expect(retrieveRuns).toBe(1);
    expect(await findChecklist(t.db, id!)).toMatchObject({
      state: 'completed',
      update_callback: 'skipped',
      update_callback_attempts: 2,
    });
  });

  it.runIf(dialect === 'mysql')('serves the claim query from its index (EXPLAIN)', async () => {
    await addItems(t.db, 50);
    // The very statement claimItems runs, not a copy of it.
    const [rows] = (await t.db.raw(`EXPLAIN ${MYSQL_CLAIM_SELECT}`, [Date.now(), 5])) as [
      Array<{ key: string; Extra: string | null }>,
    ];
    expect(rows[0]!.key).toBe('checklist_priority_claim_idx');
    expect(rows[0]!.Extra ?? '').not.toMatch(/filesort/i);
  });
});
