/**
 * The one fenced write path (db/fenced-update.ts), run on every dialect: a
 * claim holder's write lands whole; a write from a claim that was taken over,
 * or whose extra part fails, lands not at all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fencedUpdate, type ClaimGuard } from '../../src/db/fenced-update.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { LeaseLostError } from '../../src/errors.js';
import { addItems, claimOne } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe.each(availableDialects())('fenced write on %s', (dialect) => {
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

  async function claimGuard(workerId: string, now?: number): Promise<ClaimGuard> {
    const { mediaId, claimToken } = await claimOne(t.db, workerId, now);
    return { mediaId, claimToken, workerId };
  }

  /** The item's timeline after intake's own 'registered' entry. */
  async function eventsOf(mediaId: number): Promise<string[]> {
    const rows = (await t
      .db('processing_events')
      .where({ media_id: mediaId })
      .orderBy('id')
      .select('event')) as Array<{ event: string }>;
    return rows.map((row) => row.event).filter((event) => event !== 'registered');
  }

  const variantsOf = async (mediaId: number) =>
    Number(
      ((await t.db('media_variants').where({ media_id: mediaId }).count({ n: '*' })) as [{ n: number }])[0].n,
    );

  const variantRow = (mediaId: number) => ({
    media_id: mediaId,
    size: 'grid',
    format: 'webp',
    bg: 'original',
    width: 10,
    height: 10,
    bytes: 100,
    path: `library/x/${mediaId}.webp`,
    etag: 'e',
    created_at: Date.now(),
  });

  it("lands the holder's checklist, media, extra rows and events together", async () => {
    const [id] = await addItems(t.db, 1);
    const guard = await claimGuard('A');
    await fencedUpdate(t.db, guard, {
      checklist: { retrieve_file: 'completed' },
      media: { file_size: 1234, sha256: 'abc' },
      events: [{ step: 'retrieve', event: 'completed', attempt: 1 }],
      event: { step: 'analyse', event: 'started', attempt: 1 },
      also: async (trx) => {
        await trx('media_variants').insert(variantRow(id!));
      },
    });
    expect((await findChecklist(t.db, id!))!.retrieve_file).toBe('completed');
    expect(await findMedia(t.db, id!)).toMatchObject({ file_size: 1234, sha256: 'abc' });
    expect(await eventsOf(id!)).toEqual(['completed', 'started']);
    expect(await variantsOf(id!)).toBe(1);
  });

  it('refuses a taken-over claim and writes none of its parts', async () => {
    const [id] = await addItems(t.db, 1);
    const stale = await claimGuard('A');
    await claimGuard('B', Date.now() + 1500);
    let extraRan = false;
    await expect(
      fencedUpdate(t.db, stale, {
        checklist: { state: 'completed' },
        media: { status: 'completed', file_size: 99 },
        event: { event: 'completed' },
        also: async (trx) => {
          extraRan = true;
          await trx('media_variants').insert(variantRow(id!));
        },
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(extraRan).toBe(false);
    expect((await findChecklist(t.db, id!))!).toMatchObject({ state: 'queued', worker_id: 'B' });
    expect(await findMedia(t.db, id!)).toMatchObject({ status: 'pending', file_size: null });
    expect(await eventsOf(id!)).toEqual([]);
    expect(await variantsOf(id!)).toBe(0);
  });

  it('rolls the whole write back when its extra part fails', async () => {
    const [id] = await addItems(t.db, 1);
    const guard = await claimGuard('A');
    await expect(
      fencedUpdate(t.db, guard, {
        checklist: { retrieve_file: 'completed' },
        media: { file_size: 5 },
        event: { event: 'completed' },
        also: async (trx) => {
          await trx('media_variants').insert(variantRow(id!));
          throw new Error('disk said no');
        },
      }),
    ).rejects.toThrow('disk said no');
    expect((await findChecklist(t.db, id!))!.retrieve_file).toBe('pending');
    expect(await findMedia(t.db, id!)).toMatchObject({ file_size: null });
    expect(await eventsOf(id!)).toEqual([]);
    expect(await variantsOf(id!)).toBe(0);
  });

  it('records the events of a write that releases the claim it is fenced on', async () => {
    const [id] = await addItems(t.db, 1);
    const guard = await claimGuard('A');
    await fencedUpdate(t.db, guard, {
      checklist: { claim_token: null, worker_id: null, lease_expires_at: null },
      event: { event: 'released', message: 'shutdown' },
    });
    expect((await findChecklist(t.db, id!))!.claim_token).toBeNull();
    expect(await eventsOf(id!)).toEqual(['released']);
    await expect(fencedUpdate(t.db, guard, { checklist: {} })).rejects.toBeInstanceOf(LeaseLostError);
  });
});
