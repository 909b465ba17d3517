/**
 * The ObjectStore the configuration names: STORAGE_URL when set, else the
 * directory STORAGE_DIR (config-storage-options.ts has the rule).
 */
import path from 'node:path';
import type { Config } from '../config-type.js';
import { FsObjectStore } from './fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';
import type { StorageLocation } from './storage-url.js';

export type StorageSettings = Pick<
  Config,
  'storageUrl' | 'storageDir' | 's3Endpoint' | 's3Region' | 's3ForcePathStyle'
>;

export function storageLocation(config: StorageSettings): StorageLocation {
  return config.storageUrl ?? { kind: 'fs', root: path.resolve(config.storageDir) };
}

/** `scratchDir`: where an S3 store spools puts and downloads (default: the OS temp directory). */
export function objectStoreFor(config: StorageSettings, options: { scratchDir?: string } = {}): ObjectStore {
  const location = storageLocation(config);
  if (location.kind === 'fs') return new FsObjectStore(location.root);
  return new S3ObjectStore({
    bucket: location.bucket,
    prefix: location.prefix,
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: config.s3ForcePathStyle,
    scratchDir: options.scratchDir,
  });
}
