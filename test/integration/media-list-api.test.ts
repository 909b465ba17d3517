/**
 * GET /api/media over real HTTP on both databases: 250 items seeded straight
 * into the tables (every status the API names), walked page by page with and
 * without filters (each item exactly once, in id order), every parameter
 * validated, a tampered cursor refused, and on MariaDB the common filters
 * read through an index (EXPLAIN of the very query listMedia runs).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemStatus } from '../../src/db/item-view.js';
import { mediaListQuery, type MediaListFilters, type MediaListItem } from '../../src/db/media-list.js';
import { createServer } from '../../src/http/server.js';
import { ROLES, dataTypeOf } from '../../src/media-roles.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const KEY = 'list-key-0123456789';
const ITEMS = 250;
const T0 = 1_780_000_000_000;

type Steps = [string, string, string, string];
/** By id % 10: the media status, the checklist state, the four step states, and the API status that follows. */
const SHAPES: Array<{ media: string; state: string; steps: Steps; expected: ItemStatus }> = [
  {
    media: 'completed',
    state: 'completed',
    steps: ['completed', 'completed', 'completed', 'skipped'],
    expected: 'completed',
  },
  {
    media: 'pending',
    state: 'queued',
    steps: ['pending', 'pending', 'pending', 'pending'],
    expected: 'pending',
  },
  {
    media: 'downloading',
    state: 'queued',
    steps: ['pending', 'pending', 'pending', 'pending'],
    expected: 'retrieving',
  },
  {
    media: 'processing',
    state: 'queued',
    steps: ['completed', 'pending', 'pending', 'pending'],
    expected: 'analysing',
  },
  {
    media: 'processing',
    state: 'queued',
    steps: ['completed', 'completed', 'pending', 'pending'],
    expected: 'resizing',
  },
  {
    media: 'completed',
    state: 'queued',
    steps: ['completed', 'completed', 'completed', 'pending'],
    expected: 'reporting',
  },
  {
    media: 'failed',
    state: 'failed',
    steps: ['failed', 'pending', 'pending', 'pending'],
    expected: 'failed',
  },
  {
    media: 'deleted',
    state: 'deleted',
    steps: ['completed', 'completed', 'completed', 'skipped'],
    expected: 'deleted',
  },
  // A served item whose callback failed, and one being re-rendered after a requeue.
  {
    media: 'completed',
    state: 'failed',
    steps: ['completed', 'completed', 'completed', 'failed'],
    expected: 'completed',
  },
  {
    media: 'completed',
    state: 'queued',
    steps: ['completed', 'completed', 'pending', 'pending'],
    expected: 'resizing',
  },
];

interface Seeded {
  id: number;
  user_id: number;
  role: string;
  data_type: string;
  is_test_data: boolean;
  created_at: number;
  status: ItemStatus;
}

async function seed(t: TestDatabase): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const media = [];
  const checklist = [];
  for (let id = 1; id <= ITEMS; id++) {
    const shape = SHAPES[id % 10]!;
    const role = ROLES[id % ROLES.length]!;
    const row = {
      id,
      user_id: 1 + (id % 50),
      role,
      data_type: dataTypeOf(role),
      is_test_data: id % 4 === 0,
      created_at: T0 + id * 1000,
    };
    seeded.push({ ...row, status: shape.expected });
    const done = shape.media === 'completed' || shape.media === 'deleted';
    media.push({
      ...row,
      source: 'local',
      source_path: `/seed/${id}.jpg`,
      status: shape.media,
      updated_at: row.created_at,
      completed_at: done ? row.created_at + 500 : null,
    });
    const [retrieve, analyse, resize, callback] = shape.steps;
    checklist.push({
      media_id: id,
      state: shape.state,
      next_attempt_at: T0,
      retrieve_file: retrieve,
      ai_visual_analysis: analyse,
      resize_optimize: resize,
      update_callback: callback,
      created_at: row.created_at,
      updated_at: row.created_at,
    });
  }
  await t.db.batchInsert('media_files', media, 100);
  await t.db.batchInsert('processing_checklist', checklist, 100);
  return seeded;
}

describe.each(availableDialects())('GET /api/media on %s', (dialect) => {
  let t: TestDatabase;
  let server: FastifyInstance;
  let base: string;
  let seeded: Seeded[];

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    seeded = await seed(t);
    const storage = new FsObjectStore(`/tmp/media-worker-list-${dialect}-unused`);
    server = createServer(
      testServerOptions(t.db, {
        ...serverStorage(storage),
        mediaApiKey: KEY,
      }),
    );
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await t.drop();
  });

  const get = (query: string) =>
    fetch(`${base}/api/media${query ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${KEY}` } });

  /** Every page of a listing, following next_cursor; the ids in the order seen. */
  async function walk(params: Record<string, string>): Promise<MediaListItem[]> {
    const seen: MediaListItem[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const query = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) }).toString();
      const response = await get(query);
      expect(response.status, query).toBe(200);
      const body = (await response.json()) as { items: MediaListItem[]; next_cursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(Number(params.limit ?? 50));
      seen.push(...body.items);
      cursor = body.next_cursor;
      if (cursor === null) return seen;
      expect(body.items.length).toBe(Number(params.limit ?? 50));
    }
    throw new Error('the listing never ended');
  }

  const idsOf = (items: readonly { media_id?: number; id?: number }[]) =>
    items.map((item) => item.media_id ?? item.id);

  it('walks all 250 items once each, in id order, with the fields and links', async () => {
    const all = await walk({ limit: '7' });
    expect(idsOf(all)).toEqual(seeded.map((s) => s.id));
    const sample = all.find((item) => item.media_id === 42)!;
    const expected = seeded[41]!;
    expect(sample).toEqual({
      media_id: 42,
      user_id: expected.user_id,
      role: expected.role,
      data_type: expected.data_type,
      status: expected.status,
      is_test_data: expected.is_test_data,
      created_at: expected.created_at,
      completed_at: null,
      links: { self: '/api/media/42', serve: '/serve/42', analysis: '/api/media/analysis/42' },
    });
    expect(all.map((item) => item.status)).toEqual(seeded.map((s) => s.status));
    // The default page is 50; the largest 100.
    expect(idsOf(await walk({}))).toEqual(seeded.map((s) => s.id));
    expect(idsOf(await walk({ limit: '100' }))).toEqual(seeded.map((s) => s.id));
  });

  it.each<[string, Record<string, string>, (s: Seeded) => boolean]>([
    ['user_id', { user_id: '3' }, (s) => s.user_id === 3],
    ['role', { role: 'logo' }, (s) => s.role === 'logo'],
    ['data_type', { data_type: 'profile' }, (s) => s.data_type === 'profile'],
    ['is_test_data=true', { is_test_data: 'true' }, (s) => s.is_test_data],
    ['is_test_data=false', { is_test_data: 'false' }, (s) => !s.is_test_data],
    ['since (inclusive)', { since: String(T0 + 100_000) }, (s) => s.created_at >= T0 + 100_000],
    ['until (exclusive)', { until: String(T0 + 100_000) }, (s) => s.created_at < T0 + 100_000],
    [
      'since and until with user_id and status',
      { since: String(T0 + 20_000), until: String(T0 + 200_000), user_id: '6', status: 'reporting' },
      (s) =>
        s.created_at >= T0 + 20_000 &&
        s.created_at < T0 + 200_000 &&
        s.user_id === 6 &&
        s.status === 'reporting',
    ],
  ])('filters by %s across pages', async (_name, params, keep) => {
    const expected = seeded.filter(keep).map((s) => s.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(idsOf(await walk({ ...params, limit: '9' }))).toEqual(expected);
  });

  it('filters by every status exactly as the status rule names it', async () => {
    const seen = new Set<number>();
    for (const status of new Set(SHAPES.map((shape) => shape.expected))) {
      const items = await walk({ status, limit: '10' });
      expect(idsOf(items), status).toEqual(seeded.filter((s) => s.status === status).map((s) => s.id));
      expect(items.every((item) => item.status === status)).toBe(true);
      for (const item of items) seen.add(item.media_id);
    }
    expect(seen.size).toBe(ITEMS);
  });

  it.each([
    ['limit', 'limit=0'],
    ['limit', 'limit=101'],
    ['limit', 'limit=ten'],
    ['user_id', 'user_id=abc'],
    ['user_id', 'user_id=1&user_id=2'],
    ['role', 'role=admin'],
    ['data_type', 'data_type=Not%20A%20Folder'],
    ['status', 'status=processing'],
    ['is_test_data', 'is_test_data=yes'],
    ['since', 'since=2026-01-01T00:00:00Z'],
    ['until', 'until=-5'],
    ['until', `since=${T0}&until=${T0}`],
    ['colour', 'colour=red'],
    ['cursor', 'cursor=not-a-cursor!'],
    ['cursor', `cursor=${Buffer.from('abc').toString('base64url')}`],
    ['cursor', `cursor=${Buffer.from('0').toString('base64url')}`],
    ['cursor', `cursor=${Buffer.from('07').toString('base64url')}`],
    ['cursor', `cursor=${Buffer.from('12').toString('base64')}%3D%3D`],
    ['cursor', 'cursor='],
  ])('400 naming %s for %s', async (field, query) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'bad_request', message: expect.any(String), field });
  });

  it('a tampered cursor is refused; a valid one resumes after its id', async () => {
    const first = (await (await get('limit=5')).json()) as { next_cursor: string };
    expect(first.next_cursor).toBe(Buffer.from('5').toString('base64url'));
    const cursor = first.next_cursor;
    for (const tampered of [
      `${cursor.slice(0, -1)}X`,
      `${cursor}A`,
      `${cursor}=`,
      `-${cursor}`,
      cursor.toLowerCase(),
    ]) {
      const response = await get(`cursor=${encodeURIComponent(tampered)}`);
      expect(response.status, tampered).toBe(400);
      expect(((await response.json()) as { field: string }).field).toBe('cursor');
    }
    const resumed = (await (await get(`limit=2&cursor=${first.next_cursor}`)).json()) as {
      items: MediaListItem[];
    };
    expect(idsOf(resumed.items)).toEqual([6, 7]);
  });

  it.runIf(dialect === 'mysql')('reads the common filters through an index (EXPLAIN)', async () => {
    await t.db.raw('ANALYZE TABLE media_files, processing_checklist');
    // [filters, the table the plan starts from, the indexes it may read it by]
    const cases: Array<[Partial<MediaListFilters>, 'm' | 'c', string[]]> = [
      [{}, 'm', ['PRIMARY']],
      [{ afterId: 100 }, 'm', ['PRIMARY']],
      [{ userId: 3 }, 'm', ['media_user_idx']],
      [{ userId: 3, afterId: 100 }, 'm', ['media_user_idx']],
      [{ since: T0 + 240_000 }, 'm', ['media_created_idx']],
      [{ since: T0 + 10_000, until: T0 + 12_000 }, 'm', ['media_created_idx']],
      [{ status: 'pending' }, 'm', ['media_files_status_index']],
      // The checklist state decides `failed`: read in id order (the page stops the scan) or by state.
      [{ status: 'failed' }, 'c', ['PRIMARY', 'checklist_heal_idx', 'checklist_claim_idx']],
    ];
    for (const [filters, first, keys] of cases) {
      const { sql, bindings } = mediaListQuery(t.db, { limit: 50, ...filters })
        .toSQL()
        .toNative();
      const [rows] = (await t.db.raw(`EXPLAIN ${sql}`, bindings)) as [
        Array<{ table: string; key: string | null; type: string; Extra: string | null }>,
      ];
      const plan = JSON.stringify(rows.map(({ table, type, key, Extra }) => ({ table, type, key, Extra })));
      const [driving, joined] = rows;
      expect(driving!.table, plan).toBe(first);
      expect(keys, `${JSON.stringify(filters)}: ${plan}`).toContain(driving!.key);
      expect(driving!.type, plan).not.toBe('ALL');
      expect(joined, plan).toMatchObject({ type: 'eq_ref', key: 'PRIMARY' });
    }
  });
});
