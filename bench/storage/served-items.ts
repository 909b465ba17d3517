/**
 * Processed items for the serve and put measurements: distinct photos made
 * from the samples, run through the real pipeline (local analysis only) into
 * a directory store, then copied into a bucket under the same keys, so both
 * stores hold the very same objects and the same database describes both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/db/connect.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { copyObjects } from '../../src/storage/copy-objects.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { processQueued } from '../lib/fixture-item.js';
import { SAMPLE_PHOTOS, upscaled } from '../lib/inputs.js';

export interface ServedItems {
  /** The SQLite file describing the items (copy it per server). */
  databaseFile: string;
  fsStore: FsObjectStore;
  mediaIds: number[];
  /** Bytes of each item's grid WebP. */
  gridWebpBytes: number[];
  /** Keys of every variant of the first item (a resize step's writes). */
  variantKeys: string[];
}

export async function processServedItems(dir: string, count: number): Promise<ServedItems> {
  const photos = [...SAMPLE_PHOTOS, path.join(path.dirname(SAMPLE_PHOTOS[0]!), 'market-street-sign.jpg')];
  const inputs: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `input-${i}.jpg`);
    fs.writeFileSync(file, await upscaled(photos[i % photos.length]!, 2, 86 + i));
    inputs.push(file);
  }
  const databaseFile = path.join(dir, 'items.sqlite');
  const env = {
    DATABASE_URL: `sqlite:${databaseFile}`,
    STORAGE_URL: `fs:${path.join(dir, 'fs-storage')}`,
    ANALYSIS_PROVIDERS: 'local',
  };
  const config = loadConfig(env);
  const db = connectDatabase(config.database);
  const fsStore = new FsObjectStore(path.join(dir, 'fs-storage'));
  try {
    await migrateLatest(db);
    const mediaIds = await ingestFiles(db, inputs, { userId: 1, role: 'product', isTestData: true });
    await processQueued(config, db, fsStore);
    const gridWebpBytes: number[] = [];
    let variantKeys: string[] = [];
    for (const id of mediaIds) {
      const variants = await listVariants(db, id);
      const grid = variants.find((v) => v.size === 'grid' && v.format === 'webp');
      if (!grid) throw new Error(`item ${id} has no grid WebP: it was not processed`);
      gridWebpBytes.push(grid.bytes);
      if (variantKeys.length === 0) variantKeys = variants.map((v) => v.path);
    }
    return { databaseFile, fsStore, mediaIds, gridWebpBytes, variantKeys };
  } finally {
    await db.destroy();
  }
}

/** Copies every object of the directory store into `bucket` (verified by read-back). */
export async function copyIntoBucket(items: ServedItems, bucket: ObjectStore): Promise<void> {
  const report = await copyObjects(items.fsStore, bucket, { destinationKeepsMetadata: true });
  if (report.failed > 0) throw new Error(`copy into the bucket failed: ${JSON.stringify(report.failures)}`);
}
