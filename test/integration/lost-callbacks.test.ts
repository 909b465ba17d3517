/** Lost-callback re-sends: spaced out, claimed once across pollers, capped (main-api-sync.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertMedia } from '../../src/db/insert-media.js';
import { lostCallbacks } from '../../src/db/main-api-sync.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe.each(availableDialects())('lost callbacks on %s', (dialect) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('re-sends after 1, 4, 16 … minutes, once per due time, and stops after the cap', async () => {
    const policy = { firstAfterMs: 60_000, factor: 4, maxResends: 3 };
    const id = await insertMedia(t.db, {
      source: 'main_api',
      sourcePath: '/temp_images/p/1-product-1.jpg',
      mainApiId: 77,
      userId: 1,
      role: 'product',
      dataType: 'product',
    });
    const start = Date.now();
    await t.db('media_files').where({ id }).update({ status: 'completed', completed_at: start });
    await t.db('processing_checklist').where({ media_id: id }).update({ state: 'completed' });
    const at = (minutes: number) => start + minutes * 60_000;
    expect(await lostCallbacks(t.db, [77], policy, at(0.5))).toEqual({ due: [], exhausted: [] });
    expect(await lostCallbacks(t.db, [77], policy, at(1))).toEqual({ due: [id], exhausted: [] });
    // A second poller at the same moment gets nothing: the re-send was claimed.
    expect(await lostCallbacks(t.db, [77], policy, at(1))).toEqual({ due: [], exhausted: [] });
    expect((await lostCallbacks(t.db, [77], policy, at(4))).due).toEqual([]);
    expect((await lostCallbacks(t.db, [77], policy, at(5))).due).toEqual([id]);
    expect((await lostCallbacks(t.db, [77], policy, at(21))).due).toEqual([id]);
    expect(await lostCallbacks(t.db, [77], policy, at(10_000))).toEqual({ due: [], exhausted: [id] });
    expect(await lostCallbacks(t.db, [78], policy, at(10_000))).toEqual({ due: [], exhausted: [] });
  });

  it('counts from when the completion was accepted, not from when the item became servable', async () => {
    const policy = { firstAfterMs: 60_000, factor: 4, maxResends: 3 };
    const id = await insertMedia(t.db, {
      source: 'main_api',
      sourcePath: '/temp_images/p/1-product-2.jpg',
      mainApiId: 79,
      userId: 1,
      role: 'product',
      dataType: 'product',
    });
    const now = Date.now();
    // Servable for ten minutes (its callback kept failing), accepted a moment ago.
    await t
      .db('media_files')
      .where({ id })
      .update({ status: 'completed', completed_at: now - 600_000, callback_reported_at: now - 1000 });
    await t.db('processing_checklist').where({ media_id: id }).update({ state: 'completed' });
    expect(await lostCallbacks(t.db, [79], policy, now)).toEqual({ due: [], exhausted: [] });
    expect((await lostCallbacks(t.db, [79], policy, now + 60_000)).due).toEqual([id]);
  });
});
