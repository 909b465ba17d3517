/**
 * In-memory cache of what each item can serve, so a /serve hit for a known
 * variant costs no database query. Every entry lives at most `ttlMs` (1 s by
 * default): a deletion or a re-render by another process is visible within
 * that second, and this process drops an entry at once when it changes the
 * item or a file turns out to be missing. Concurrent misses for one item
 * share one load. Bounded: the oldest entries go first.
 *
 * Once a renderer is set (enableOnDemand), an item also lists the variants
 * it can have rendered on first request (`onDemand: true`): the on-demand
 * sizes it lacks, in each format its other variants have, while the
 * original is kept (images/on-demand-sizes.ts). Once the original is gone
 * they are not listed, and the size falls back as any missing size does.
 */
import type { Db } from '../db/connect.js';
import type { MediaStatus } from '../db/records.js';
import { findServedItem, type ServedItem } from '../db/served-item.js';
import { listStoredVariants } from '../db/servable-variants.js';
import { missingOnDemandVariants } from '../images/on-demand-sizes.js';
import { variantPath, type OutputFormat } from '../images/presets.js';
import type { OnDemandRenderer } from '../serve/render-on-demand.js';

/** The daemon builds its renderer through here (app.ts holds one import per module it composes). */
export { onDemandRendererFor } from '../serve/render-on-demand.js';

export interface ServableVariant {
  size: string;
  format: string;
  bg: string;
  path: string;
  etag: string;
  /** Recorded at write time; variants are immutable, so this is the file's size. */
  bytes: number;
  /** Last-Modified, formatted once. */
  lastModified: string;
  /** Not stored yet: rendered by the first request for it (the other fields are placeholders until then). */
  onDemand?: true;
}

export type ItemLookup =
  | { state: 'unknown' }
  | { state: 'not-ready'; status: MediaStatus }
  | { state: 'deleted' }
  | { state: 'ready'; item: ServedItem; variants: ServableVariant[] };

export interface OnDemandSetup {
  renderer: OnDemandRenderer;
}

export class VariantLookup {
  private readonly entries = new Map<number, { lookup: ItemLookup; expiresAt: number }>();
  private readonly loading = new Map<number, Promise<ItemLookup>>();
  private onDemandSetup: OnDemandSetup | undefined;

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 1_000,
    private readonly maxEntries = 20_000,
  ) {}

  /** Lists (and renders, through `renderer`) the on-demand sizes; without it, only stored variants are served. */
  enableOnDemand(renderer: OnDemandRenderer): void {
    this.onDemandSetup = { renderer };
  }

  get onDemand(): OnDemandSetup | undefined {
    return this.onDemandSetup;
  }

  /** The cached lookup when it is fresh: the hot path's synchronous answer. */
  cached(mediaId: number): ItemLookup | undefined {
    const cached = this.entries.get(mediaId);
    return cached && cached.expiresAt > Date.now() ? cached.lookup : undefined;
  }

  async find(mediaId: number): Promise<ItemLookup> {
    const cached = this.cached(mediaId);
    if (cached) return cached;
    const pending = this.loading.get(mediaId);
    if (pending) return pending;
    const load = this.load(mediaId)
      .then((lookup) => {
        this.remember(mediaId, lookup);
        return lookup;
      })
      .finally(() => this.loading.delete(mediaId));
    this.loading.set(mediaId, load);
    return load;
  }

  invalidate(mediaId: number): void {
    this.entries.delete(mediaId);
  }

  private remember(mediaId: number, lookup: ItemLookup): void {
    this.entries.delete(mediaId);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(mediaId, { lookup, expiresAt: Date.now() + this.ttlMs });
  }

  private async load(mediaId: number): Promise<ItemLookup> {
    const item = await findServedItem(this.db, mediaId);
    if (item === undefined) return { state: 'unknown' };
    if (item.status === 'deleted') return { state: 'deleted' };
    if (item.status !== 'completed') return { state: 'not-ready', status: item.status };
    const variants = (await listStoredVariants(this.db, mediaId)).map(
      ({ size, format, bg, path, etag, bytes, createdAt }): ServableVariant => ({
        size,
        format,
        bg,
        path,
        etag,
        bytes,
        lastModified: new Date(createdAt).toUTCString(),
      }),
    );
    return { state: 'ready', item, variants: [...variants, ...this.renderable(item, variants)] };
  }

  /** The on-demand variants the item may have rendered (on-demand-sizes.ts), once a renderer is set. */
  private renderable(item: ServedItem, stored: readonly ServableVariant[]): ServableVariant[] {
    if (!this.onDemandSetup) return [];
    return missingOnDemandVariants(item, stored).map(({ size, format }) => ({
      size,
      format,
      bg: 'original',
      path: variantPath(item, size, format as OutputFormat, 'original'),
      etag: '',
      bytes: 0,
      lastModified: '',
      onDemand: true,
    }));
  }
}
