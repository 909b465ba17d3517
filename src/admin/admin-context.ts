/**
 * What the admin actions need, handed over by the CLI (built from the
 * config) and by the HTTP server (built once by App): the database, the
 * store, a logger, and the few settings the actions read.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log.js';
import { localDiskDir, storageLocation, type StorageSettings } from '../storage/object-store-for.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface AdminSettings {
  /** heal's default limit (HEAL_BATCH). */
  healBatch: number;
  /** cleanup's originals retention (ORIGINALS_RETENTION_DAYS; 0: originals are kept). */
  originalsRetentionDays: number;
  /** A worker whose heartbeat is older than this is not live (LEASE_MS). */
  leaseMs: number;
  diskAlertPercent: number;
  /** The local disk that fills: STORAGE_DIR, or the scratch directory on a bucket. */
  localDiskDir: string;
  /** A directory store sits on the local disk; a bucket's capacity is not known to us. */
  storeKind: 'directory' | 's3';
  /** Where the store is, for cleanup's check that it works as configured (checkStorageAtStart). */
  storage: StorageSettings;
}

export interface AdminContext {
  db: Db;
  store: ObjectStore;
  log: Logger;
  settings: AdminSettings;
}

export function adminSettingsOf(config: Config): AdminSettings {
  return {
    healBatch: config.healBatch,
    originalsRetentionDays: config.originalsRetentionDays,
    leaseMs: config.leaseMs,
    diskAlertPercent: config.diskAlertPercent,
    localDiskDir: localDiskDir(config),
    storeKind: storageLocation(config).kind === 's3' ? 's3' : 'directory',
    storage: {
      storageUrl: config.storageUrl,
      storageDir: config.storageDir,
      s3Endpoint: config.s3Endpoint,
      s3Region: config.s3Region,
      s3ForcePathStyle: config.s3ForcePathStyle,
      scratchDir: config.scratchDir,
    },
  };
}

/** What the HTTP server needs besides its own db and log to run the admin actions. */
export type AdminOptions = Pick<AdminContext, 'store' | 'settings'>;
