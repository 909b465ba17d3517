/**
 * `media-worker cleanup`: retention and orphans, in batches, safe beside
 * running workers (only expired, test or completed items are touched, and
 * files younger than a grace period are never called orphans: a worker may
 * have just renamed them into place).
 */
import {
  completedItemIds,
  filesOf,
  incomingKeysInUse,
  knownStoragePaths,
  originalsCompletedBefore,
  selectLiveItemIds,
  type CleanupSelection,
} from '../db/cleanup-selections.js';
import type { Db } from '../db/connect.js';
import { requeueItems } from '../db/requeue-items.js';
import { listStoredVariants } from '../db/servable-variants.js';
import { findServedItem } from '../db/served-item.js';
import { failUnclaimedItem } from '../db/unclaimed-failure.js';
import { missingOnDemandVariants } from '../images/on-demand-sizes.js';
import type { ObjectStore } from '../storage/object-store.js';
import { deleteItem, deleteOriginal } from './delete-item.js';

export interface CleanupOptions {
  expired: boolean;
  orphans: boolean;
  testData: boolean;
  dryRun: boolean;
  originalsDays: number;
  now?: number;
  batchSize?: number;
  /** Files younger than this are never orphans. */
  orphanGraceMs?: number;
  onProgress?: (label: string, done: number) => void;
}

export interface CleanupReport {
  dryRun: boolean;
  expiredItems: number[];
  testDataItems: number[];
  expiredOriginals: number[];
  orphanFiles: string[];
  vanishedRequeued: number[];
  vanishedMarkedFailed: number[];
}

const DAY_MS = 86_400_000;

export async function runCleanup(
  db: Db,
  storage: ObjectStore,
  options: CleanupOptions,
): Promise<CleanupReport> {
  const now = options.now ?? Date.now();
  const report: CleanupReport = {
    dryRun: options.dryRun,
    expiredItems: [],
    testDataItems: [],
    expiredOriginals: [],
    orphanFiles: [],
    vanishedRequeued: [],
    vanishedMarkedFailed: [],
  };
  // A dry run deletes nothing, so an item selected twice (test data and expired) is reported once, as a real run would.
  const handled = new Set<number>();
  if (options.testData) {
    report.testDataItems = await deleteInBatches(db, storage, options, handled, 'test data', {
      kind: 'test-data',
    });
  }
  if (options.expired) {
    report.expiredItems = await deleteInBatches(db, storage, options, handled, 'expired', {
      kind: 'expired',
      now,
    });
    if (options.originalsDays > 0)
      report.expiredOriginals = await expireOriginals(
        db,
        storage,
        options,
        now - options.originalsDays * DAY_MS,
      );
  }
  if (options.orphans) {
    report.orphanFiles = await removeOrphanFiles(db, storage, options, now);
    Object.assign(report, await repairVanishedFiles(db, storage, options));
  }
  return report;
}

async function deleteInBatches(
  db: Db,
  storage: ObjectStore,
  options: CleanupOptions,
  handled: Set<number>,
  label: string,
  selection: CleanupSelection,
): Promise<number[]> {
  const done: number[] = [];
  let afterId = 0;
  for (;;) {
    const ids = await selectLiveItemIds(db, selection, afterId, options.batchSize ?? 500);
    if (ids.length === 0) return done;
    afterId = ids[ids.length - 1]!;
    for (const files of await filesOf(
      db,
      ids.filter((id) => !handled.has(id)),
    )) {
      handled.add(files.id);
      if (options.dryRun || (await deleteItem(db, storage, files, `cleanup: ${label}`))) done.push(files.id);
    }
    options.onProgress?.(label, done.length);
  }
}

async function expireOriginals(
  db: Db,
  storage: ObjectStore,
  options: CleanupOptions,
  completedBefore: number,
): Promise<number[]> {
  const done: number[] = [];
  for (const { id, bulkPath } of await originalsCompletedBefore(db, completedBefore)) {
    if (await neededOnDemand(db, id)) continue;
    if (options.dryRun || (await deleteOriginal(db, storage, id, bulkPath))) done.push(id);
  }
  return done;
}

/**
 * The originals rule for on-demand sizes (docs/serving-performance.md): an
 * original is kept past ORIGINALS_RETENTION_DAYS for as long as the item
 * lacks an on-demand variant it can have (the first request for it renders
 * from the original); once every one is stored (served once, or made by
 * `media-worker render`), the days apply as before.
 */
async function neededOnDemand(db: Db, id: number): Promise<boolean> {
  const item = await findServedItem(db, id);
  return item !== undefined && missingOnDemandVariants(item, await listStoredVariants(db, id)).length > 0;
}

/**
 * Objects under bulk/ and library/ that no row points at, incoming/ objects
 * no pending HTTP upload needs (no row: a crash between storing and
 * registering; or retrieve has copied it into bulk/), and what interrupted
 * writes left, older than the grace period. The store's listing pages
 * (ListObjectsV2 on a bucket), so memory holds the known keys, not the listing.
 */
async function removeOrphanFiles(
  db: Db,
  storage: ObjectStore,
  options: CleanupOptions,
  now: number,
): Promise<string[]> {
  const known = new Set<string>(await knownStoragePaths(db));
  const graceMs = options.orphanGraceMs ?? 3_600_000;
  const orphans = await storage.removeLeftovers({ olderThanMs: graceMs, now, dryRun: options.dryRun });
  // Read before the listing: an upload stored after this read is younger than the grace, so never an orphan.
  const needed = new Set<string>(await incomingKeysInUse(db));
  for (const [prefix, keep] of [
    ['bulk/', known],
    ['library/', known],
    ['incoming/', needed],
  ] as const) {
    for await (const object of storage.list(prefix)) {
      if (keep.has(object.key) || now - object.lastModified.getTime() < graceMs) continue;
      if (!options.dryRun) await storage.delete(object.key);
      orphans.push(object.key);
      options.onProgress?.('orphan files', orphans.length);
    }
  }
  return orphans;
}

/** Completed items whose variant files vanished: re-made from the original when it is there, else marked failed. */
async function repairVanishedFiles(
  db: Db,
  storage: ObjectStore,
  options: CleanupOptions,
): Promise<Pick<CleanupReport, 'vanishedRequeued' | 'vanishedMarkedFailed'>> {
  const result = { vanishedRequeued: [] as number[], vanishedMarkedFailed: [] as number[] };
  const ids = await completedItemIds(db);
  for (let i = 0; i < ids.length; i += options.batchSize ?? 500) {
    for (const files of await filesOf(db, ids.slice(i, i + (options.batchSize ?? 500)))) {
      const missing = await asyncFilter(files.variantPaths, async (p) => !(await exists(storage, p)));
      if (missing.length === 0) continue;
      const original = files.bulkPath !== null && (await exists(storage, files.bulkPath));
      (original ? result.vanishedRequeued : result.vanishedMarkedFailed).push(files.id);
      if (options.dryRun) continue;
      if (original) await requeueItems(db, [files.id], 'resize');
      else await markFilesVanished(db, files.id, missing.length);
    }
    options.onProgress?.('vanished files', i);
  }
  return result;
}

async function exists(storage: ObjectStore, key: string): Promise<boolean> {
  return (await storage.stat(key)) !== undefined;
}

async function asyncFilter<T>(items: T[], predicate: (item: T) => Promise<boolean>): Promise<T[]> {
  const keep = await Promise.all(items.map(predicate));
  return items.filter((_, i) => keep[i]);
}

async function markFilesVanished(db: Db, id: number, missing: number): Promise<void> {
  const message = `${missing} variant file(s) vanished from storage and the original is gone too: cannot be re-made`;
  await failUnclaimedItem(db, id, { step: 'resize', errorClass: 'GONE', message });
}
