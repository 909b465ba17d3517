/**
 * GET /api/admin/storage: storage as the database records it (totals, by
 * data type and by format, dedup savings), what the store holds (listed
 * only when asked: a bucket costs a request per 1,000 keys), what retention
 * removed and how fast, and the local disk with its alert flag. A figure we
 * cannot know is null, and `unknown` says why, under the same name.
 */
import { listAudit, type AuditRecord } from '../db/admin-audit.js';
import { retentionHistory, type RemovedCounts } from '../db/retention-history.js';
import { storageStats, type AreaUsage, type StorageStats } from '../db/storage-stats.js';
import type { AdminContext } from './admin-context.js';
import { localDisk, storeSize, type LocalDisk, type StoreSize } from './stats-report.js';

export interface StorageReport {
  /** Originals and variants the rows point at. */
  total: AreaUsage;
  byArea: StorageStats['byArea'];
  byDataType: StorageStats['byDataType'];
  bytesByFormat: StorageStats['bytesByFormat'];
  savedVsJpeg: StorageStats['savedVsJpeg'];
  dedup: StorageStats['dedup'];
  /** Objects the store holds, by listing it; null unless asked for (`store=true`). */
  store: StoreSize | null;
  retention: {
    itemsDeleted: RemovedCounts;
    originalsRemoved: RemovedCounts;
    /** Variant files go with their item's rows, uncounted: null. */
    variantFilesDeleted: null;
    /** Averages over the last 7 days. */
    perDay: { itemsDeleted: number; originalsRemoved: number };
    /** The newest cleanup run in the audit (the daily timer's included). */
    lastCleanup: AuditRecord | null;
  };
  /** The local disk (STORAGE_DIR's, or the scratch directory's on a bucket); null if unreadable. */
  disk: LocalDisk | null;
  /** A bucket's capacity and use are not something S3 reports: null; see store. */
  bucket: { location: string; capacityBytes: null; usedPercent: null; alert: null } | null;
  unknown: Record<string, string>;
}

export async function storageReport(context: AdminContext, listStore: boolean): Promise<StorageReport> {
  const { db, store, settings } = context;
  const stats = await storageStats(db);
  const history = await retentionHistory(db);
  const lastCleanup = (await listAudit(db, { action: 'cleanup', limit: 1 })).entries[0] ?? null;
  const unknown: Record<string, string> = {
    'retention.variantFilesDeleted':
      'variant rows are removed with their item and not counted; itemsDeleted counts the items',
  };
  if (!listStore) unknown.store = 'not listed: ask with store=true (lists every object of the store)';
  const disk = await localDisk(settings);
  if (!disk) unknown.disk = `could not read the file system of ${settings.localDiskDir}`;
  const onBucket = settings.storeKind === 's3';
  if (onBucket)
    unknown.bucket =
      'a bucket has no capacity to report: only what it holds (store=true); disk is the scratch disk';
  const { bulk, library } = stats.byArea;
  return {
    total: { files: bulk.files + library.files, bytes: bulk.bytes + library.bytes },
    byArea: stats.byArea,
    byDataType: stats.byDataType,
    bytesByFormat: stats.bytesByFormat,
    savedVsJpeg: stats.savedVsJpeg,
    dedup: stats.dedup,
    store: listStore ? await storeSize(store) : null,
    retention: {
      ...history,
      variantFilesDeleted: null,
      perDay: {
        itemsDeleted: round(history.itemsDeleted.lastWeek / 7),
        originalsRemoved: round(history.originalsRemoved.lastWeek / 7),
      },
      lastCleanup,
    },
    disk,
    bucket: onBucket
      ? { location: store.description, capacityBytes: null, usedPercent: null, alert: null }
      : null,
    unknown,
  };
}

const round = (value: number) => Math.round(value * 100) / 100;
