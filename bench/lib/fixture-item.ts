/** A database with processed sample images, for benchmarks that serve or inspect them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { connectDatabase, type Db } from '../../src/db/connect.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
import { withPipeline } from '../../test/helpers/pipeline.js';
import { WorkerLoop } from '../../src/queue/worker-loop.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export interface ProcessedFixture {
  dir: string;
  env: Record<string, string>;
  config: Config;
  db: Db;
  mediaId: number;
  gridWebp: { path: string; etag: string; bytes: number };
}

export async function processedFixture(sample: string): Promise<ProcessedFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-bench-'));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
    STORAGE_DIR: path.join(dir, 'storage'),
  };
  const config = loadConfig(env);
  const db = connectDatabase(config.database);
  await migrateLatest(db);
  const storage = new FsObjectStore(config.storageDir);
  const [mediaId] = await ingestFiles(db, [sample], { userId: 1, role: 'product', isTestData: true });
  await processQueued(config, db, storage);
  const grid = (await listVariants(db, mediaId!)).find((v) => v.size === 'grid' && v.format === 'webp')!;
  return {
    dir,
    env,
    config,
    db,
    mediaId: mediaId!,
    gridWebp: { path: storage.pathOf(grid.path), etag: grid.etag, bytes: grid.bytes },
  };
}

/** Runs the real pipeline in this process until the queue is empty (the benches' fixtures). */
export async function processQueued(config: Config, db: Db, storage: ObjectStore): Promise<void> {
  await withPipeline(config, db, storage, (steps) =>
    new WorkerLoop({
      ...config,
      db,
      version: 'bench',
      steps,
      authPauseMs: 1000,
      log: silentLogger(),
      once: true,
      pollIntervalMs: 20,
      idleMaxMs: 100,
    }).run(),
  );
}
