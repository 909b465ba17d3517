/**
 * The read queries behind the dashboard's Items and Failures pages, on both
 * databases, over rows seeded straight into the tables: listMedia's added
 * filters (id, main API id, failed step, error class) equal the same rule
 * applied to the seeded rows; pages read backwards (beforeId) are the
 * forward pages in reverse; failures group by class and message (a NULL
 * message is a group of its own) with the right counts and newest example.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countFailureGroup,
  countHealable,
  failureGroupIds,
  listFailureGroups,
} from '../../src/db/failure-groups.js';
import { listMedia, type MediaListFilters } from '../../src/db/media-list.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const T0 = 1_780_000_000_000;
const ITEMS = 60;

interface Seeded {
  id: number;
  mainApiId: number | null;
  failed: boolean;
  failedStep: string | null;
  errorClass: string | null;
  message: string | null;
  failedAt: number | null;
}

/** By id % 6: failures of three kinds, a retry pending with a class, and two completed items. */
function shapeOf(id: number): Omit<Seeded, 'id' | 'mainApiId'> {
  const failedAt = T0 + id * 1000;
  switch (id % 6) {
    case 0:
      return { failed: true, failedStep: 'retrieve', errorClass: 'GONE', message: 'gone', failedAt };
    case 1:
      return { failed: true, failedStep: 'resize', errorClass: 'TRANSIENT', message: 'disk full', failedAt };
    case 2:
      return { failed: true, failedStep: 'analyse', errorClass: 'TRANSIENT', message: null, failedAt };
    case 3:
      return {
        failed: false,
        failedStep: null,
        errorClass: 'RATE_LIMIT',
        message: 'slow down',
        failedAt: null,
      };
    default:
      return { failed: false, failedStep: null, errorClass: null, message: null, failedAt: null };
  }
}

async function seed(t: TestDatabase): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const media = [];
  const checklist = [];
  for (let id = 1; id <= ITEMS; id++) {
    const shape = shapeOf(id);
    const mainApiId = id % 2 === 0 ? 5000 + id : null;
    seeded.push({ id, mainApiId, ...shape });
    media.push({
      id,
      main_api_id: mainApiId,
      source: 'local',
      source_path: `/seed/${id}.jpg`,
      role: 'product',
      data_type: 'product',
      status: shape.failed ? 'failed' : 'completed',
      created_at: T0 + id,
      updated_at: T0 + id,
    });
    checklist.push({
      media_id: id,
      state: shape.failed ? 'failed' : shape.errorClass ? 'queued' : 'completed',
      next_attempt_at: T0,
      failed_step: shape.failedStep,
      failed_at: shape.failedAt,
      last_error_class: shape.errorClass,
      last_error: shape.message,
      created_at: T0 + id,
      updated_at: T0 + id,
    });
  }
  await t.db.batchInsert('media_files', media, 100);
  await t.db.batchInsert('processing_checklist', checklist, 100);
  return seeded;
}

describe.each(availableDialects())('the dashboard item queries on %s', (dialect) => {
  let t: TestDatabase;
  let seeded: Seeded[];

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    seeded = await seed(t);
  });
  afterAll(async () => {
    await t.drop();
  });

  const ids = async (filters: Omit<MediaListFilters, 'limit'>) =>
    (await listMedia(t.db, { ...filters, limit: 100 })).items.map((item) => item.media_id);
  const expected = (keep: (row: Seeded) => boolean) => seeded.filter(keep).map((row) => row.id);

  it('filters by id, main API id, failed step and error class as the seeded rows say', async () => {
    expect(await ids({ mediaId: 7 })).toEqual([7]);
    expect(await ids({ mediaId: 999 })).toEqual([]);
    expect(await ids({ mainApiId: 5010 })).toEqual([10]);
    expect(await ids({ mainApiId: 5011 })).toEqual([]);
    for (const step of ['retrieve', 'analyse', 'resize', 'callback'] as const)
      expect(await ids({ failedStep: step }), step).toEqual(expected((row) => row.failedStep === step));
    for (const errorClass of ['GONE', 'TRANSIENT', 'RATE_LIMIT', 'AUTH'])
      expect(await ids({ errorClass }), errorClass).toEqual(expected((row) => row.errorClass === errorClass));
    expect(await ids({ errorClass: 'TRANSIENT', status: 'failed' })).toEqual(
      expected((row) => row.errorClass === 'TRANSIENT' && row.failed),
    );
  });

  it('reads pages backwards from beforeId: the forward pages in reverse, in id order each', async () => {
    const forward: number[][] = [];
    for (let afterId: number | undefined; ;) {
      const page = await listMedia(t.db, {
        limit: 7,
        errorClass: 'TRANSIENT',
        ...(afterId ? { afterId } : {}),
      });
      forward.push(page.items.map((item) => item.media_id));
      if (page.lastId === null) break;
      afterId = page.lastId;
    }
    expect(forward.flat()).toEqual(expected((row) => row.errorClass === 'TRANSIENT'));
    let beforeId = forward.at(-1)![0]!;
    for (let back = forward.length - 2; back >= 0; back--) {
      const page = await listMedia(t.db, { limit: 7, errorClass: 'TRANSIENT', beforeId });
      expect(page.items.map((item) => item.media_id)).toEqual(forward[back]);
      expect(page.firstId).toBe(back === 0 ? null : forward[back]![0]);
      expect(page.lastId).toBe(forward[back]!.at(-1));
      beforeId = forward[back]![0]!;
    }
  });

  it('groups failures by class and message, with counts and the newest example', async () => {
    const groups = await listFailureGroups(t.db, { limit: 10 });
    const failed = seeded.filter((row) => row.failed);
    const keys = [...new Set(failed.map((row) => JSON.stringify([row.errorClass, row.message])))];
    expect(groups.length).toBe(keys.length);
    for (const group of groups) {
      const members = failed.filter(
        (row) => row.errorClass === group.errorClass && row.message === group.message,
      );
      const newest = members.reduce((a, b) => (b.failedAt! > a.failedAt! ? b : a));
      expect(group).toMatchObject({ count: members.length, newestId: newest.id, newestAt: newest.failedAt });
      expect(await countFailureGroup(t.db, group)).toBe(members.length);
      expect(await failureGroupIds(t.db, group, 3)).toEqual(members.slice(0, 3).map((row) => row.id));
    }
    expect(groups.find((group) => group.message === null)).toMatchObject({ errorClass: 'TRANSIENT' });
    expect((await listFailureGroups(t.db, { errorClass: 'GONE', limit: 10 })).map((g) => g.message)).toEqual([
      'gone',
    ]);
    expect(await countHealable(t.db)).toBe(failed.filter((row) => row.errorClass === 'TRANSIENT').length);
  });
});
