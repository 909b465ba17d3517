/** createServer's options for a test: the storage parts as App composes them, and quiet defaults for the rest. */
import type { AdminSettings } from '../../src/admin/admin-context.js';
import type { Db } from '../../src/db/connect.js';
import type { ServerOptions } from '../../src/http/server.js';
import { VariantLookup } from '../../src/http/variant-lookup.js';
import { createVariantSource } from '../../src/http/variant-source.js';
import { silentLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

type StorageOptions = Pick<
  ServerOptions,
  'openVariant' | 'checkStorage' | 'localDiskDir' | 'submit' | 'admin'
>;

/** POST /api/media's settings in tests: the defaults of MAX_UPLOAD_BYTES and API_UPLOAD_CONCURRENCY, nothing expires. */
export const TEST_SUBMIT = {
  maxUploadBytes: 5_242_880,
  uploadConcurrency: 4,
  retention: { itemDays: {}, originalsDays: 0, testDataHours: 24 },
};

/** The admin actions' settings in tests: the defaults of HEAL_BATCH, ORIGINALS_RETENTION_DAYS, LEASE_MS. */
export function testAdminSettings(store: ObjectStore, localDiskDir: string): AdminSettings {
  return {
    healBatch: 10,
    originalsRetentionDays: 30,
    leaseMs: 120_000,
    diskAlertPercent: 99,
    localDiskDir,
    storeKind: store instanceof FsObjectStore ? 'directory' : 's3',
    // Only the kind and the scratch directory matter to the check cleanup runs (checkStorageAtStart).
    storage: {
      storageUrl:
        store instanceof FsObjectStore
          ? { kind: 'fs', root: store.root }
          : { kind: 's3', bucket: 'test', prefix: '' },
      storageDir: localDiskDir,
      s3Endpoint: undefined,
      s3Region: 'us-east-1',
      s3ForcePathStyle: true,
      scratchDir: localDiskDir,
    },
  };
}

/** A directory store: /serve reads it directly, /readyz probes it. */
export function serverStorage(store: FsObjectStore): StorageOptions;
/** Any store, read directly, with the local disk at `localDiskDir`. */
export function serverStorage(store: ObjectStore, localDiskDir: string): StorageOptions;
export function serverStorage(store: ObjectStore, localDiskDir?: string): StorageOptions {
  const source = createVariantSource({
    store,
    remote: false,
    cacheDir: '',
    cacheBytes: 0,
    log: silentLogger(),
  });
  return {
    openVariant: source.open,
    checkStorage: () => store.check(),
    localDiskDir: localDiskDir ?? (store as FsObjectStore).root,
    submit: { store, ...TEST_SUBMIT },
    admin: { store, settings: testAdminSettings(store, localDiskDir ?? (store as FsObjectStore).root) },
  };
}

/**
 * Everything createServer needs: `db`, the storage parts (serverStorage, or
 * written out), and whatever the test sets; the rest is a silent log, fresh
 * metrics and lookup, no key, a disk alert at 99 % and no main API problem.
 */
export function testServerOptions(
  db: Db,
  parts: StorageOptions & Partial<Omit<ServerOptions, 'db'>>,
): ServerOptions {
  return {
    db,
    metrics: new Metrics(),
    lookup: new VariantLookup(db),
    log: silentLogger(),
    mediaApiKey: undefined,
    diskAlertPercent: 99,
    mainApiAuthProblem: () => undefined,
    ...parts,
  };
}
