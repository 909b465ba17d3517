/**
 * On-demand variants: the first request for a size of ON_DEMAND_SIZES
 * renders it from the kept original, stores it like any other variant and
 * answers with it; later requests are ordinary hits.
 *
 * Single-flight per variant (media, size, format, bg):
 * - in this process, every request for a variant being rendered awaits the
 *   same promise;
 * - across processes and machines, a lease row (db/on-demand-leases.ts):
 *   whoever holds it renders, the others poll for the variant's row and
 *   answer with it; a lease whose holder died runs out and is taken over.
 * Bounded: at most `concurrency` renders at once in this process, and at
 * most MAX_WAITERS requests waiting on other processes' renders; beyond
 * either the caller answers 503 with Retry-After ('busy'), so a crawler
 * walking every zoom cannot queue work without bound.
 * The write is fenced like resize's: the file is stored atomically under its
 * key, then recorded in one transaction that first deletes our lease row
 * (refused if it is no longer ours) and checks the item is still served.
 */
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import type { Db } from '../db/connect.js';
import {
  acquireRenderLease,
  findVariantOf,
  recordOnDemandVariant,
  releaseRenderLease,
  type RenderLease,
  type VariantKey,
} from '../db/on-demand-leases.js';
import type { ServedItem } from '../db/served-item.js';
import type { VariantRow } from '../db/variant-rows.js';
import { LeaseLostError } from '../errors.js';
import type { ImageRuntime } from '../images/image-runtime.js';
import {
  CONTENT_TYPE,
  VARIANT_CACHE_CONTROL,
  variantPath,
  type OutputFormat,
  type SizeName,
} from '../images/presets.js';
import { renderOneVariant } from '../images/render-variants.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

export interface OnDemandOptions {
  db: Db;
  store: ObjectStore;
  images: ImageRuntime;
  maxInputPixels: number;
  /** ON_DEMAND_CONCURRENCY: renders at once in this process. */
  concurrency: number;
  /** Names this process in the lease row (WORKER_ID). */
  holder: string;
  log: Logger;
  /** How long a lease holds before another process may take the render over. */
  leaseMs?: number;
  /** How often a waiter looks for the variant another process is rendering. */
  pollMs?: number;
  /** Told each render this process made (metrics, the render-count log line tests read). */
  onRendered?: (size: string, format: string, seconds: number) => void;
}

export type OnDemandResult =
  | { state: 'ready'; variant: VariantRow & { createdAt: number }; rendered: boolean }
  /** Too many renders (or waits) at once here: answer 503, try again shortly. */
  | { state: 'busy' }
  /** It cannot be made: the original is gone (retention), or the item is no longer served. */
  | { state: 'unavailable'; reason: string };

/** Requests waiting on renders other processes hold, at most. */
const MAX_WAITERS = 256;
/** A render of a 12 MP original takes seconds on a busy machine; the lease must outlast it by far. */
const DEFAULT_LEASE_MS = 60_000;

export class OnDemandRenderer {
  private readonly inFlight = new Map<string, Promise<OnDemandResult>>();
  private rendering = 0;
  private waiting = 0;

  constructor(private readonly options: OnDemandOptions) {}

  /** The variant of `item` in this size and format: stored already, rendered now, or rendered by another process. */
  async variantOf(item: ServedItem, size: SizeName, format: OutputFormat): Promise<OnDemandResult> {
    const key: VariantKey = { mediaId: item.id, size, format, bg: 'original' };
    const id = `${key.mediaId}/${size}/${format}`;
    const shared = this.inFlight.get(id);
    if (shared) return shared;
    const started = this.resolve(item, key).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, started);
    return started;
  }

  private async resolve(item: ServedItem, key: VariantKey): Promise<OnDemandResult> {
    const { db, leaseMs = DEFAULT_LEASE_MS } = this.options;
    for (;;) {
      const stored = await findVariantOf(db, key);
      if (stored) return { state: 'ready', variant: stored, rendered: false };
      if (item.bulk_path === null || item.width === null || item.height === null)
        return { state: 'unavailable', reason: 'the original is no longer kept' };
      if (this.rendering >= this.options.concurrency) return { state: 'busy' };
      const attempt = await acquireRenderLease(db, key, this.options.holder, leaseMs);
      if (attempt.acquired) {
        const result = await this.renderUnderLease(item, attempt.lease);
        if (result) return result;
        continue; // the lease was taken over while we rendered: the new holder's result is looked for
      }
      if (this.waiting >= MAX_WAITERS) return { state: 'busy' };
      this.waiting++;
      try {
        await this.waitForOther(key, attempt.expiresAt);
      } finally {
        this.waiting--;
      }
    }
  }

  /** Polls until the variant is recorded or the other holder's lease runs out (then the loop takes it over). */
  private async waitForOther(key: VariantKey, expiresAt: number): Promise<void> {
    const pollMs = this.options.pollMs ?? 100;
    while (Date.now() <= expiresAt) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      if (await findVariantOf(this.options.db, key)) return;
    }
  }

  /** The result, or undefined when the lease was lost (another holder renders it). */
  private async renderUnderLease(item: ServedItem, lease: RenderLease): Promise<OnDemandResult | undefined> {
    if (this.rendering >= this.options.concurrency) {
      await releaseRenderLease(this.options.db, lease);
      return { state: 'busy' };
    }
    this.rendering++;
    try {
      return await this.renderAndStore(item, lease);
    } catch (error) {
      if (error instanceof LeaseLostError) return undefined;
      await releaseRenderLease(this.options.db, lease).catch(() => undefined);
      if (error instanceof ObjectNotFoundError)
        return { state: 'unavailable', reason: 'the original is missing from storage' };
      throw error;
    } finally {
      this.rendering--;
    }
  }

  private async renderAndStore(item: ServedItem, lease: RenderLease): Promise<OnDemandResult> {
    const { db, store, images, maxInputPixels, log } = this.options;
    const { size, format } = lease.key as { size: SizeName; format: OutputFormat };
    const started = performance.now();
    const original = await store.localFile(item.bulk_path!);
    let variant: VariantRow;
    try {
      const rendered = await renderOneVariant(
        original.path,
        { width: item.width!, height: item.height! },
        { size, format },
        { maxInputPixels, memory: images.memory },
      );
      const path = variantPath(item, size, format, 'original');
      const bytes = await store.put(path, rendered.data, {
        contentType: CONTENT_TYPE[format],
        cacheControl: VARIANT_CACHE_CONTROL,
      });
      const { width, height, etag } = rendered;
      variant = { size, format, bg: 'original', width, height, bytes, path, etag };
    } finally {
      await original.release();
    }
    if ((await recordOnDemandVariant(db, lease, variant)) === 'item-gone') {
      // Deleted while we rendered: the file we stored is nobody's.
      await store.delete(variant.path).catch(() => undefined);
      return { state: 'unavailable', reason: 'the item is no longer served' };
    }
    const seconds = (performance.now() - started) / 1000;
    log.info({ mediaId: item.id, size, format, bytes: variant.bytes, seconds }, 'on-demand variant rendered');
    this.options.onRendered?.(size, format, seconds);
    return { state: 'ready', variant: { ...variant, createdAt: Date.now() }, rendered: true };
  }
}

/** The daemon's renderer: its settings from the config (ON_DEMAND_CONCURRENCY, WORKER_ID names the lease holder). */
export function onDemandRendererFor(
  config: Pick<Config, 'maxInputPixels' | 'onDemandConcurrency' | 'workerId'>,
  db: Db,
  store: ObjectStore,
  images: ImageRuntime,
  log: Logger,
  metrics: { onOnDemandRender: (size: string, format: string) => void },
): OnDemandRenderer {
  return new OnDemandRenderer({
    db,
    store,
    images,
    maxInputPixels: config.maxInputPixels,
    concurrency: config.onDemandConcurrency,
    holder: config.workerId,
    log: log.child({ component: 'on-demand' }),
    onRendered: metrics.onOnDemandRender,
  });
}
