/** Identical bytes uploaded again for the same role reuse the stored variants and analysis. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { findAnalysis, listVariants } from '../../src/db/media-outputs.js';
import { findMedia } from '../../src/db/records.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { withPipeline } from '../helpers/pipeline.js';

describe.each(availableDialects())('duplicate uploads on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-dedup-'));
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('processes the same file once; both items have working files, and deleting one leaves the other intact', async () => {
    const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
    const storage = new FsObjectStore(config.storageDir);
    const file = SAMPLE('coffee-cup.png');
    const [first, second] = await ingestFiles(t.db, [file, file], {
      userId: 3,
      role: 'product',
      isTestData: false,
    });
    const [otherRole] = await ingestFiles(t.db, [file], { userId: 3, role: 'profile', isTestData: false });
    await withPipeline(config, t.db, storage, (steps) => makeWorker(t.db, steps, { concurrency: 1 }).run());

    const original = (await findMedia(t.db, first!))!;
    const duplicate = (await findMedia(t.db, second!))!;
    expect(original).toMatchObject({ status: 'completed', duplicate_of: null });
    expect(duplicate).toMatchObject({ status: 'completed', duplicate_of: first });
    expect((await findMedia(t.db, otherRole!))!.duplicate_of).toBeNull(); // another role needs other sizes
    // The resize step's ThumbHash, written in its transition; a duplicate takes its source's.
    expect(original.thumbhash).toMatch(/^[A-Za-z0-9+/]{20,}={0,2}$/);
    expect(duplicate.thumbhash).toBe(original.thumbhash);

    const events = (await t
      .db('processing_events')
      .where({ media_id: second, event: 'completed' })
      .pluck('message')) as Array<string | null>;
    expect(events.some((m) => m?.includes(`reused 12 variants of item ${first}`))).toBe(true);
    expect(events.some((m) => m?.includes(`reused the analysis of item ${first}`))).toBe(true);

    const originalVariants = await listVariants(t.db, first!);
    const duplicateVariants = await listVariants(t.db, second!);
    expect(duplicateVariants).toHaveLength(originalVariants.length);
    for (const variant of duplicateVariants) {
      const twin = originalVariants.find((v) => v.size === variant.size && v.format === variant.format)!;
      expect(variant.path).toContain(`/${second}_`);
      expect(variant.etag).toBe(twin.etag);
      expect(fs.statSync(storage.pathOf(variant.path)).ino).toBe(fs.statSync(storage.pathOf(twin.path)).ino);
    }
    const analysis = (await findAnalysis(t.db, second!))!;
    expect(analysis.perceptual_hash).toBe((await findAnalysis(t.db, first!))!.perceptual_hash);

    for (const variant of originalVariants) fs.rmSync(storage.pathOf(variant.path));
    for (const variant of duplicateVariants) {
      expect(fs.statSync(storage.pathOf(variant.path)).size).toBe(variant.bytes);
    }
  });
});
