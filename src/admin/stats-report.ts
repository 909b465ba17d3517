/**
 * What `media-worker stats` shows and GET /api/admin/stats answers: the
 * queue, storage as recorded, the local disk, the fleet pause, and (asked
 * for) what the store holds, counted by listing it.
 */
import { readPauseState, type PauseState } from '../db/fleet-pause.js';
import { queueStats, type QueueStats } from '../db/queue-stats.js';
import { storageStats, type StorageStats } from '../db/storage-stats.js';
import { diskUsage, type DiskUsage } from '../storage/disk-usage.js';
import { totalSize, type ObjectStore } from '../storage/object-store.js';
import type { AdminContext } from './admin-context.js';

export interface Stats {
  queue: QueueStats;
  storage: StorageStats;
  /** The local disk that fills: STORAGE_DIR's, or the scratch directory's on a bucket. */
  disk: LocalDisk | null;
  /** Fleet-wide: while paused, no worker claims new items. */
  pause: PauseState;
  /** With `store`: what the store itself holds, counted by listing it. */
  store?: StoreSize;
}

export type LocalDisk = DiskUsage & { directory: string; alertPercent: number; alert: boolean };

export interface StoreSize {
  location: string;
  bulk: { objects: number; bytes: number };
  library: { objects: number; bytes: number };
}

/** `store`: the store to list (a bucket: 1,000 keys a request), or undefined not to list it. */
export async function collectStats(
  context: Pick<AdminContext, 'db' | 'settings'>,
  store: ObjectStore | undefined,
): Promise<Stats> {
  const { db, settings } = context;
  return {
    // A worker beats every third of a lease: one missing lease's worth means it is gone.
    queue: await queueStats(db, settings.leaseMs),
    storage: await storageStats(db),
    disk: await localDisk(settings),
    pause: await readPauseState(db),
    ...(store ? { store: await storeSize(store) } : {}),
  };
}

export async function localDisk(settings: AdminContext['settings']): Promise<LocalDisk | null> {
  const directory = settings.localDiskDir;
  const disk = await diskUsage(directory).catch(() => undefined);
  if (!disk) return null;
  const alertPercent = settings.diskAlertPercent;
  return { ...disk, directory, alertPercent, alert: disk.usedPercent >= alertPercent };
}

/** Every object listed once, paginated. */
export async function storeSize(store: ObjectStore): Promise<StoreSize> {
  return {
    location: store.description,
    bulk: await totalSize(store, 'bulk/'),
    library: await totalSize(store, 'library/'),
  };
}
