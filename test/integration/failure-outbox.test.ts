/**
 * The failure-report outbox (DELETE /api/media/cleanup): at least once even
 * when its sender dies mid-call, one stubborn report never holds back the
 * rest or the poll, and a delivered upload is never reported as failed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertMedia } from '../../src/db/insert-media.js';
import { claimFailuresToReport } from '../../src/db/main-api-sync.js';
import { MainApiPoller } from '../../src/intake/main-api-poller.js';
import { FakeMainApi } from '../helpers/fake-main-api.js';
import { fakeMainApiClient, fakeMainApiPoller } from '../helpers/main-api-clients.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe.each(availableDialects())('failure outbox on %s', (dialect) => {
  let t: TestDatabase;
  let api: FakeMainApi;
  let poller: MainApiPoller;
  let nextId = 9000;

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await t.db('media_files').delete();
    api = new FakeMainApi();
    await api.start();
    poller = fakeMainApiPoller(t.db, fakeMainApiClient(api, { timeoutMs: 2000 }));
  });
  afterEach(async () => {
    await api.stop();
  });

  /** A main API upload that failed for good (or, with `delivered`, one whose completion was accepted). */
  async function failedUpload(
    options: { delivered?: boolean } = {},
  ): Promise<{ id: number; mainApiId: number }> {
    const mainApiId = nextId++;
    const id = await insertMedia(t.db, {
      source: 'main_api',
      sourcePath: `/temp_images/p/1-product-1-${mainApiId}.jpg`,
      mainApiId,
      userId: 1,
      role: 'product',
      dataType: 'product',
    });
    await t
      .db('media_files')
      .where({ id })
      .update({ status: 'failed', callback_result: options.delivered ? 'accepted' : null });
    await t
      .db('processing_checklist')
      .where({ media_id: id })
      .update({
        state: 'failed',
        last_error_class: 'GONE',
        update_callback: options.delivered ? 'completed' : 'pending',
      });
    return { id, mainApiId };
  }

  it('sends a report again when its sender died after claiming it', async () => {
    const { id } = await failedUpload();
    const now = Date.now();
    expect(await claimFailuresToReport(t.db, 10, now)).toEqual([expect.objectContaining({ id })]);
    // The sender is killed here: nothing confirmed. Another poller must not take it while the claim lasts …
    expect(await claimFailuresToReport(t.db, 10, now + 1000)).toEqual([]);
    // … and must once the claim's lease is over.
    expect(await claimFailuresToReport(t.db, 10, now + 61_000)).toEqual([expect.objectContaining({ id })]);
  });

  it('a report the main API keeps refusing holds back neither the others nor the poll', async () => {
    const stubborn = await failedUpload();
    const others = [await failedUpload(), await failedUpload()];
    api.faults.push({
      method: 'DELETE',
      path: new RegExp(`/cleanup/${stubborn.mainApiId}$`),
      fault: '500',
      times: 99,
    });
    await expect(poller.pollOnce()).resolves.toMatchObject({ failuresReported: 2 });
    for (const other of others)
      expect(api.calls('DELETE', new RegExp(`/cleanup/${other.mainApiId}$`))).toHaveLength(1);
    // Not reported yet, and not forgotten: its claim is simply waiting for its lease.
    const row = (await t.db('media_files').where({ id: stubborn.id }).first()) as {
      failure_reported_at: unknown;
    };
    expect(row.failure_reported_at).toBeNull();
    expect(await claimFailuresToReport(t.db, 10, Date.now() + 61_000)).toEqual([
      expect.objectContaining({ id: stubborn.id }),
    ]);
  });

  it('never reports an upload whose completion the main API accepted, even if it fails later', async () => {
    const delivered = await failedUpload({ delivered: true });
    await poller.pollOnce();
    await poller.pollOnce();
    expect(api.calls('DELETE', new RegExp(`/cleanup/${delivered.mainApiId}$`))).toHaveLength(0);
  });
});
