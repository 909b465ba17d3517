/**
 * Cleanup on a bucket (moto_server on 127.0.0.1): retention, test data,
 * orphans and vanished variants over 2,100 objects, so the orphan walk pages
 * through ListObjectsV2 (1,000 keys a page) and deletes by key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup/run-cleanup.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { useMotoServer } from '../helpers/moto-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const moto = useMotoServer();

const ITEMS = 690;
const ORPHANS = 30;
const DAY = 86_400_000;

describe.skipIf(!moto.available)('cleanup on an S3 bucket', () => {
  let store: S3ObjectStore;
  let t: TestDatabase;
  let scratch: string;
  const ids = Array.from({ length: ITEMS }, (_, i) => i + 1);
  const keysOf = (id: number) => [
    `bulk/2026-01-01/${id}.jpg`,
    `library/user_1/product/img/${id}_grid.webp`,
    `library/user_1/product/img/${id}_grid.jpeg`,
  ];

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanup-on-s3-'));
    store = new S3ObjectStore({
      bucket: 'media-cleanup',
      prefix: 'prod/',
      endpoint: moto.server.endpoint,
      forcePathStyle: true,
      scratchDir: scratch,
    });
    await store.client.send(new CreateBucketCommand({ Bucket: 'media-cleanup' }));
    t = await createTestDatabase('sqlite');
    await seed(t, store, ids, keysOf);
  }, 180_000);

  afterAll(async () => {
    await t?.drop();
    await store?.close();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  const listAll = async () => {
    const keys: string[] = [];
    for await (const object of store.list('')) keys.push(object.key);
    return keys.sort();
  };

  it('lists every object once across pages, and a dry run deletes nothing', async () => {
    const before = await listAll();
    expect(before).toHaveLength(ITEMS * 3 + ORPHANS);
    const report = await runCleanup(t.db, store, {
      expired: true,
      orphans: true,
      testData: true,
      dryRun: true,
      originalsDays: 0,
      orphanGraceMs: 0,
      now: Date.now() + 1_000,
    });
    expect(report.orphanFiles).toHaveLength(ORPHANS);
    expect(report.testDataItems).toEqual(ids.filter((id) => id % 7 === 0));
    expect(await listAll()).toEqual(before);
  });

  it('removes expired and test-data items, orphans and nothing else; repairs a vanished variant', async () => {
    await store.delete(keysOf(1)[1]!); // a variant of a live item vanished; its original is still there
    const report = await runCleanup(t.db, store, {
      expired: true,
      orphans: true,
      testData: true,
      dryRun: false,
      originalsDays: 0,
      orphanGraceMs: 0,
      now: Date.now() + 1_000,
    });
    const removed = new Set([...report.testDataItems, ...report.expiredItems]);
    expect(report.testDataItems).toEqual(ids.filter((id) => id % 7 === 0));
    expect(report.expiredItems).toEqual(ids.filter((id) => id % 10 === 0 && id % 7 !== 0));
    expect(report.orphanFiles.sort()).toEqual(
      Array.from({ length: ORPHANS }, (_, i) => `library/user_9/product/img/orphan-${i}.webp`).sort(),
    );
    expect(report.vanishedRequeued).toEqual([1]);
    const expected = ids
      .filter((id) => !removed.has(id))
      .flatMap(keysOf)
      .filter((key) => key !== keysOf(1)[1])
      .sort();
    expect(await listAll()).toEqual(expected);
    const statuses = (await t
      .db('media_files')
      .whereIn('id', [1, 7, 10])
      .orderBy('id')
      .pluck('status')) as string[];
    expect(statuses).toEqual(['completed', 'deleted', 'deleted']);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });
});

/** Completed items with an original and two variants in the bucket; every 10th expired, every 7th test data; orphans beside them. */
async function seed(
  t: TestDatabase,
  store: S3ObjectStore,
  ids: number[],
  keysOf: (id: number) => string[],
): Promise<void> {
  const now = Date.now();
  await t.db.batchInsert(
    'media_files',
    ids.map((id) => ({
      id,
      source: 'local',
      source_path: `/seed/${id}.jpg`,
      user_id: 1,
      role: 'product',
      data_type: 'product',
      status: 'completed',
      bulk_path: keysOf(id)[0],
      file_size: 4,
      is_test_data: id % 7 === 0,
      expires_at: id % 10 === 0 ? now - DAY : null,
      created_at: now - 2 * DAY,
      updated_at: now,
      completed_at: now - 2 * DAY,
    })),
    200,
  );
  await t.db.batchInsert(
    'processing_checklist',
    ids.map((id) => ({
      media_id: id,
      state: 'completed',
      next_attempt_at: now,
      retrieve_file: 'completed',
      ai_visual_analysis: 'completed',
      resize_optimize: 'completed',
      update_callback: 'skipped',
      created_at: now,
      updated_at: now,
    })),
    200,
  );
  await t.db.batchInsert(
    'media_variants',
    ids.flatMap((id) =>
      ['webp', 'jpeg'].map((format, i) => ({
        media_id: id,
        size: 'grid',
        format,
        bg: 'original',
        width: 1,
        height: 1,
        bytes: 3,
        path: keysOf(id)[i + 1],
        etag: `"${id}${format}"`,
        created_at: now,
      })),
    ),
    200,
  );
  const keys = [
    ...ids.flatMap(keysOf),
    ...Array.from({ length: ORPHANS }, (_, i) => `library/user_9/product/img/orphan-${i}.webp`),
  ];
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(keys.slice(i, i + 16).map((key) => store.put(key, Buffer.from('obj'))));
  }
}
