/**
 * Where /serve reads variants: straight from the store on disk (a local
 * open is what a cache would do anyway), through the local read-through
 * cache in front of a bucket, so hot variants never go back to it. The
 * cache entry is keyed by the variant's ETag and filled only with bytes
 * whose hash is that ETag: a re-render under the same key is never cached
 * under the old one. In front of either, small whole variants are kept in
 * memory (SERVE_MEMORY_CACHE_MB, memory-body-cache.ts) and answered without
 * a file open or a stream.
 */
import type { Readable } from 'node:stream';
import { etagOfDigest } from '../images/render-variants.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ReadThroughCache, type CacheResult } from '../storage/read-through-cache.js';
import { MemoryBodyCache } from './memory-body-cache.js';
import type { VariantOpener } from './variant-file.js';
import type { ServableVariant } from './variant-lookup.js';

export interface VariantSource {
  open: VariantOpener;
  /** A variant's whole body when memory holds it, synchronously (serve-hot-path.ts); never a read. */
  held: (variant: ServableVariant) => Buffer | undefined;
  /** Fills the cache's index from its directory (a restart keeps what was cached). */
  start(): Promise<void>;
}

export interface VariantSourceOptions {
  store: ObjectStore;
  /** The store is a bucket: put a cache in front of it. */
  remote: boolean;
  cacheDir: string;
  cacheBytes: number;
  /** SERVE_MEMORY_CACHE_MB in bytes; 0 or absent: no memory cache. */
  memoryCacheBytes?: number;
  log: Logger;
  onCacheResult?: (result: CacheResult) => void;
}

export function createVariantSource(options: VariantSourceOptions): VariantSource {
  const source = storeSource(options);
  if (!options.memoryCacheBytes) return { ...source, held: () => undefined };
  const memory = new MemoryBodyCache(options.memoryCacheBytes);
  return {
    open: inMemory(source.open, memory),
    held: (variant) => (variant.etag ? memory.get(variant.etag) : undefined),
    start: () => source.start(),
  };
}

function storeSource(options: VariantSourceOptions): Omit<VariantSource, 'held'> {
  const { store } = options;
  if (!options.remote || options.cacheBytes === 0) {
    return {
      open: (variant, range) => store.open(variant.path, range ? { range } : {}),
      start: () => Promise.resolve(),
    };
  }
  const cache = new ReadThroughCache({
    store,
    directory: options.cacheDir,
    maxBytes: options.cacheBytes,
    log: options.log.child({ component: 'serve-cache' }),
    // A variant's ETag is its content hash: what the bucket holds must be that version to be cached.
    isVersion: (etag, sha256) => etagOfDigest(sha256) === etag,
    ...(options.onCacheResult ? { onResult: options.onCacheResult } : {}),
  });
  return {
    open: (variant, range) => cache.open(variant.path, variant.etag, range ? { range } : {}),
    start: () => cache.start(),
  };
}

/** Whole small variants from memory; the first whole read of one fills it. Ranges go to the store. */
function inMemory(open: VariantOpener, memory: MemoryBodyCache): VariantOpener {
  return async (variant, range) => {
    // The ETag is the content hash: one key per distinct body (a dedup copy shares its source's).
    const key = variant.etag;
    if (range === undefined && key) {
      const body = memory.get(key);
      if (body) return { body, size: body.length, range: undefined };
    }
    const object = await open(variant, range);
    if (!object || range !== undefined || !('stream' in object) || object.size > memory.maxEntryBytes)
      return object;
    const body = await readAll(object.stream);
    // Only the recorded size is trusted (openVariantFile compares it): a damaged file is not cached.
    if (body.length === variant.bytes && key) memory.set(key, body);
    return { body, size: body.length, range: undefined };
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
