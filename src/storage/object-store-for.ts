/**
 * The ObjectStore the configuration names (STORAGE_URL when set, else the
 * directory STORAGE_DIR: config-storage-options.ts has the rule), the local
 * directory whose disk this process fills, and the check that the two are
 * usable (start-up: storage-at-start.ts; /readyz).
 */
import path from 'node:path';
import type { Config } from '../config-type.js';
import { FsObjectStore } from './fs-object-store.js';
import { StorageConfigError, type ObjectStore } from './object-store.js';
import { isPermanentStorageErrno, probeStorage } from './probe-storage.js';
import { S3ObjectStore } from './s3-object-store.js';
import type { StorageLocation } from './storage-url.js';

export type StorageSettings = Pick<
  Config,
  'storageUrl' | 'storageDir' | 's3Endpoint' | 's3Region' | 's3ForcePathStyle' | 'scratchDir'
>;

export function storageLocation(config: Omit<StorageSettings, 'scratchDir'>): StorageLocation {
  return config.storageUrl ?? { kind: 'fs', root: path.resolve(config.storageDir) };
}

export function objectStoreFor(config: StorageSettings): ObjectStore {
  const location = storageLocation(config);
  if (location.kind === 'fs') return new FsObjectStore(location.root);
  return new S3ObjectStore({
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
    scratchDir: config.scratchDir,
  });
}

/**
 * The local directory whose disk fills as media arrives: the storage
 * directory itself on fs:, the scratch directory (spooled uploads, the
 * originals handed to sharp) on a bucket. DISK_ALERT_PERCENT watches it.
 */
export function localDiskDir(config: StorageSettings): string {
  const location = storageLocation(config);
  return location.kind === 'fs' ? location.root : path.resolve(config.scratchDir);
}

/** /readyz and start-up: the store answers and can be written, and so can the local directory a bucket spools to. */
export async function checkStorage(store: ObjectStore, config: StorageSettings): Promise<void> {
  await store.check();
  if (storageLocation(config).kind === 's3') {
    await probeStorage(localDiskDir(config)).catch((error: unknown) => {
      const message = `SCRATCH_DIR ${localDiskDir(config)} cannot be used: ${(error as Error).message}`;
      const code = (error as NodeJS.ErrnoException).code;
      if (isPermanentStorageErrno(code)) throw new StorageConfigError(message, { cause: error });
      throw new Error(message, { cause: error });
    });
  }
}
