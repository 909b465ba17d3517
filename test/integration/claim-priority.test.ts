/**
 * New work first: a new upload is claimed before heals and requeues that
 * were due earlier, background work is still claimed when no new work is
 * due, and on MariaDB the claim reads the priority index without a sort.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MYSQL_CLAIM_SELECT, SQLITE_CLAIM_SELECT, claimItems } from '../../src/db/claim-items.js';
import { healFailedItems } from '../../src/db/heal-items.js';
import { requeueItems } from '../../src/db/requeue-items.js';
import { addItems } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe.each(availableDialects())('claim priority on %s', (dialect) => {
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

  /** An item that failed transiently at retrieve an hour ago, now put back by the heal cycle. */
  async function healedItem(): Promise<number> {
    const [id] = await addItems(t.db, 1);
    const hourAgo = Date.now() - 3_600_000;
    await t.db('processing_checklist').where({ media_id: id }).update({
      state: 'failed',
      last_error_class: 'TRANSIENT',
      failed_step: 'retrieve',
      failed_at: hourAgo,
      next_attempt_at: hourAgo,
    });
    expect(await healFailedItems(t.db, { limit: 10 })).toEqual([id]);
    return id!;
  }

  /** A completed item an operator re-renders from resize. */
  async function requeuedItem(): Promise<number> {
    const [id] = await addItems(t.db, 1);
    await t.db('processing_checklist').where({ media_id: id }).update({ state: 'completed' });
    await t.db('media_files').where({ id }).update({ status: 'completed', bulk_path: 'bulk/x.jpg' });
    expect((await requeueItems(t.db, [id!], 'resize')).requeued).toEqual([id]);
    return id!;
  }

  const claim = async (limit: number, now?: number) =>
    (await claimItems(t.db, { workerId: 'w', leaseMs: 60_000, limit, ...(now ? { now } : {}) })).map(
      (c) => c.mediaId,
    );

  it('claims a new upload before heals and requeues that were due before it', async () => {
    const healed = await healedItem();
    const requeued = await requeuedItem();
    // Registered last, due last: by due time alone it would be claimed last.
    const [fresh] = await addItems(t.db, 1);
    expect(await claim(1, Date.now() + 10)).toEqual([fresh]);
    // Then the background work, in due order.
    expect((await claim(5, Date.now() + 10)).sort()).toEqual([healed, requeued].sort());
  });

  it('claims background work when no new work is due (no starvation)', async () => {
    const healed = await healedItem();
    const [later] = await addItems(t.db, 1);
    // The new item is not due yet (a retry backing off): the heal must not wait for it.
    await t
      .db('processing_checklist')
      .where({ media_id: later })
      .update({ next_attempt_at: Date.now() + 60_000 });
    expect(await claim(5)).toEqual([healed]);
  });

  it('keeps new uploads at the new-work priority and background work after them', async () => {
    const [fresh] = await addItems(t.db, 1);
    const requeued = await requeuedItem();
    const priorities = (await t
      .db('processing_checklist')
      .whereIn('media_id', [fresh!, requeued])
      .orderBy('media_id')
      .pluck('priority')) as Array<number | string>;
    expect(priorities.map(Number)).toEqual([0, 10]);
  });

  it.runIf(dialect === 'mysql')('serves the prioritised claim from its index (EXPLAIN)', async () => {
    await addItems(t.db, 50);
    await requeuedItem();
    await t.db.raw('ANALYZE TABLE processing_checklist');
    // The very statement claimItems runs, not a copy of it.
    const [rows] = (await t.db.raw(`EXPLAIN ${MYSQL_CLAIM_SELECT}`, [Date.now(), 5])) as [
      Array<{ key: string; type: string; Extra: string | null }>,
    ];
    const plan = JSON.stringify(rows);
    expect(rows[0]!.key, plan).toBe('checklist_priority_claim_idx');
    expect(rows[0]!.type, plan).not.toBe('ALL');
    expect(rows[0]!.Extra ?? '', plan).not.toMatch(/filesort|temporary/i);
  });

  it.runIf(dialect === 'sqlite')(
    'serves the prioritised claim from its index (EXPLAIN QUERY PLAN)',
    async () => {
      await addItems(t.db, 20);
      const rows = (await t.db.raw(`EXPLAIN QUERY PLAN ${SQLITE_CLAIM_SELECT}`, [Date.now(), 5])) as Array<{
        detail: string;
      }>;
      const plan = rows.map((row) => row.detail).join(' | ');
      expect(plan).toMatch(/checklist_priority_claim_idx/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    },
  );
});
