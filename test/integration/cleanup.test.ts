/**
 * Retention and orphans over 2,000 items on each database: dry run, expired
 * items, test data, expired originals, orphan files both ways, and a real
 * worker processing new uploads while cleanup runs beside it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../src/cleanup/run-cleanup.js';
import { loadConfig } from '../../src/config.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { runCli } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

const ITEMS = 2000;
const DAY = 86_400_000;

/** Completed items with a bulk original and two variants on disk; every 10th expired, every 7th test data. */
async function seed(t: TestDatabase, storage: FsObjectStore): Promise<void> {
  const now = Date.now();
  const media = [];
  const checklist = [];
  const variants = [];
  for (let id = 1; id <= ITEMS; id++) {
    const bulk = `bulk/2026-01-01/${id}.jpg`;
    media.push({
      id,
      source: 'local',
      source_path: `/seed/${id}.jpg`,
      user_id: 1,
      role: 'product',
      data_type: 'product',
      status: 'completed',
      bulk_path: bulk,
      file_size: 4,
      is_test_data: id % 7 === 0,
      expires_at: id % 10 === 0 ? now - DAY : null,
      created_at: now - 2 * DAY,
      updated_at: now,
      completed_at: now - 2 * DAY,
    });
    checklist.push({
      media_id: id,
      state: 'completed',
      next_attempt_at: now,
      retrieve_file: 'completed',
      ai_visual_analysis: 'completed',
      resize_optimize: 'completed',
      update_callback: 'skipped',
      created_at: now,
      updated_at: now,
    });
    fs.mkdirSync(path.dirname(storage.pathOf(bulk)), { recursive: true });
    fs.writeFileSync(storage.pathOf(bulk), 'orig');
    for (const format of ['webp', 'jpeg']) {
      const file = `library/user_1/product/img/${id}_grid.${format}`;
      variants.push({
        media_id: id,
        size: 'grid',
        format,
        bg: 'original',
        width: 1,
        height: 1,
        bytes: 3,
        path: file,
        etag: `"${id}${format}"`,
        created_at: now,
      });
      fs.mkdirSync(path.dirname(storage.pathOf(file)), { recursive: true });
      fs.writeFileSync(storage.pathOf(file), 'var');
    }
  }
  await t.db.batchInsert('media_files', media, 200);
  await t.db.batchInsert('processing_checklist', checklist, 200);
  await t.db.batchInsert('media_variants', variants, 200);
}

const countFiles = (root: string) =>
  (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((e) => e.isFile())
    .length;

describe.each(availableDialects())('cleanup on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  let storage: FsObjectStore;
  let env: Record<string, string>;
  const expired = Array.from({ length: ITEMS }, (_, i) => i + 1).filter((id) => id % 10 === 0);
  const testData = Array.from({ length: ITEMS }, (_, i) => i + 1).filter((id) => id % 7 === 0);

  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-cleanup-'));
    storage = new FsObjectStore(path.join(dir, 'storage'));
    await seed(t, storage);
    env = { DATABASE_URL: t.url, STORAGE_DIR: storage.root, ORIGINALS_RETENTION_DAYS: '0' };
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run reports what it would do and changes nothing', async () => {
    const filesBefore = countFiles(storage.root);
    const result = await runCli(['cleanup', '--expired', '--test-data', '--dry-run', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      dryRun: boolean;
      expiredItems: number[];
      testDataItems: number[];
    };
    expect(report.dryRun).toBe(true);
    expect(report.testDataItems).toEqual(testData);
    expect(report.expiredItems).toEqual(expired.filter((id) => id % 7 !== 0)); // test data counted once, first
    expect(countFiles(storage.root)).toBe(filesBefore);
    expect(
      Number(
        ((await t.db('media_files').where({ status: 'deleted' }).count({ n: '*' }).first()) as { n: number })
          .n,
      ),
    ).toBe(0);
  });

  it('--test-data removes test data only; expired production items stay until --expired', async () => {
    const result = await runCli(['cleanup', '--test-data', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { testDataItems: number[] }).testDataItems).toHaveLength(
      testData.length,
    );
    const deleted = ((await t.db('media_files').where({ status: 'deleted' }).pluck('id')) as number[]).map(
      Number,
    );
    expect(deleted).toEqual(testData);
    expect(
      (await t
        .db('media_files')
        .where({ is_test_data: false, status: 'deleted' })
        .count({ n: '*' })
        .first()) as { n: number },
    ).toMatchObject({ n: 0 });
    for (const id of testData.slice(0, 20)) {
      expect(fs.existsSync(storage.pathOf(`bulk/2026-01-01/${id}.jpg`))).toBe(false);
      expect(await listVariants(t.db, id)).toEqual([]);
    }
    // Metadata is kept for 410 answers.
    expect(await t.db('media_files').where({ id: 7 }).first('status', 'role', 'deleted_at')).toMatchObject({
      status: 'deleted',
      role: 'product',
    });
  });

  it('--expired removes expired items (files and variant rows), leaves the rest intact', async () => {
    const result = await runCli(['cleanup', '--expired'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/expired items: removed \d+/);
    for (const id of expired) {
      expect((await t.db('media_files').where({ id }).first('status')) as { status: string }).toEqual({
        status: 'deleted',
      });
      expect(fs.existsSync(storage.pathOf(`library/user_1/product/img/${id}_grid.webp`))).toBe(false);
    }
    const kept = Array.from({ length: ITEMS }, (_, i) => i + 1).filter((id) => id % 10 !== 0 && id % 7 !== 0);
    const statuses = (await t
      .db('media_files')
      .whereIn('id', kept.slice(0, 900))
      .distinct('status')
      .pluck('status')) as string[];
    expect(statuses).toEqual(['completed']);
    for (const id of kept.slice(0, 50))
      expect(fs.existsSync(storage.pathOf(`library/user_1/product/img/${id}_grid.jpeg`))).toBe(true);
  });

  it('originals past their retention go, variants stay', async () => {
    const report = await runCleanup(t.db, storage, {
      expired: true,
      orphans: false,
      testData: false,
      dryRun: false,
      originalsDays: 1,
    });
    expect(report.expiredOriginals.length).toBeGreaterThan(1000);
    const id = report.expiredOriginals[0]!;
    expect((await t.db('media_files').where({ id }).first('bulk_path', 'status')) as object).toEqual({
      bulk_path: null,
      status: 'completed',
    });
    expect(fs.existsSync(storage.pathOf(`library/user_1/product/img/${id}_grid.webp`))).toBe(true);
  });

  it('removes old orphan files (not young ones) and repairs or marks items whose files vanished', async () => {
    const old = storage.pathOf('library/user_9/product/img/999999_grid.webp');
    const young = storage.pathOf('library/user_9/product/img/999998_grid.webp');
    const staleTemp = path.join(storage.root, 'bulk/2026-01-01/.tmp-abc-5.jpg');
    for (const file of [old, young, staleTemp]) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'x');
    }
    const past = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(old, past, past);
    fs.utimesSync(staleTemp, past, past);
    // Item 11: a variant vanished, no original left (retention took it) → marked failed.
    fs.rmSync(storage.pathOf('library/user_1/product/img/11_grid.webp'));
    // Item 13: a variant vanished but the original is back → re-queued from resize.
    await t.db('media_files').where({ id: 13 }).update({ bulk_path: 'bulk/2026-01-01/13.jpg' });
    fs.writeFileSync(storage.pathOf('bulk/2026-01-01/13.jpg'), 'orig');
    fs.rmSync(storage.pathOf('library/user_1/product/img/13_grid.jpeg'));

    const result = await runCli(['cleanup', '--orphans', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      orphanFiles: string[];
      vanishedRequeued: number[];
      vanishedMarkedFailed: number[];
    };
    expect(report.orphanFiles.sort()).toEqual([
      'bulk/2026-01-01/.tmp-abc-5.jpg',
      'library/user_9/product/img/999999_grid.webp',
    ]);
    expect(fs.existsSync(young)).toBe(true);
    expect(report.vanishedRequeued).toEqual([13]);
    expect(report.vanishedMarkedFailed).toEqual([11]);
    expect(
      (await t
        .db('processing_checklist')
        .where({ media_id: 13 })
        .first('state', 'resize_optimize')) as object,
    ).toEqual({ state: 'queued', resize_optimize: 'pending' });
    expect(
      (await t
        .db('processing_checklist')
        .where({ media_id: 11 })
        .first('state', 'last_error_class')) as object,
    ).toEqual({ state: 'failed', last_error_class: 'GONE' });
  });

  it('loses nothing that is not expired while a worker processes new uploads beside it', async () => {
    await t.db('processing_checklist').where({ media_id: 13 }).update({ state: 'completed' });
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: storage.root });
    const fresh = await ingestFiles(
      t.db,
      [
        SAMPLE('cat-chelsea.png'),
        SAMPLE('coffee-cup.png'),
        SAMPLE('hubble-deep-field.jpg'),
        SAMPLE('scikit-image-logo.png'),
      ],
      { userId: 2, role: 'product', isTestData: false },
    );
    const working = withPipeline(config, t.db, storage, (steps) =>
      makeWorker(t.db, steps, { concurrency: 2 }).run(),
    );
    let rounds = 0;
    let finished = false;
    void working.then(() => (finished = true));
    while (!finished || rounds < 2) {
      await runCleanup(t.db, storage, {
        expired: true,
        orphans: true,
        testData: false,
        dryRun: false,
        originalsDays: 0,
      });
      rounds++;
    }
    await working;
    for (const id of fresh) {
      expect((await t.db('media_files').where({ id }).first('status')) as { status: string }).toEqual({
        status: 'completed',
      });
      const variants = await listVariants(t.db, id);
      expect(variants.length).toBeGreaterThanOrEqual(12);
      for (const variant of variants)
        expect(fs.existsSync(storage.pathOf(variant.path)), variant.path).toBe(true);
    }
  });
});
