/** The storage parts of createServer's options for a test's store, as App composes them. */
import type { ServerOptions } from '../../src/http/server.js';
import { createVariantSource } from '../../src/http/variant-source.js';
import type { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { silentLogger } from '../../src/log.js';

type StorageOptions = Pick<ServerOptions, 'openVariant' | 'checkStorage' | 'localDiskDir'>;

/** A directory store: /serve reads it directly, /readyz probes it. */
export function serverStorage(store: FsObjectStore): StorageOptions;
/** Any store, served through `source` (e.g. a read-through cache), with the local disk at `localDiskDir`. */
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
  };
}
