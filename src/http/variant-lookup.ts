/**
 * In-memory cache of what each item can serve, so a cached /serve hit costs
 * no database query. Entries expire quickly (another process may complete or
 * delete the item) and are dropped at once when this process changes the item
 * or a file turns out to be missing. Bounded: the oldest entries go first.
 */
import type { Db } from '../db/connect.js';
import type { MediaStatus } from '../db/records.js';
import { findMediaStatus, listStoredVariants } from '../db/servable-variants.js';

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
}

export type ItemLookup =
  | { state: 'unknown' }
  | { state: 'not-ready'; status: MediaStatus }
  | { state: 'deleted' }
  | { state: 'ready'; variants: ServableVariant[] };

export class VariantLookup {
  private readonly entries = new Map<number, { lookup: ItemLookup; expiresAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly readyTtlMs = 10_000,
    private readonly otherTtlMs = 1_000,
    private readonly maxEntries = 20_000,
  ) {}

  async find(mediaId: number): Promise<ItemLookup> {
    const cached = this.entries.get(mediaId);
    if (cached && cached.expiresAt > Date.now()) return cached.lookup;
    const lookup = await this.load(mediaId);
    this.entries.delete(mediaId);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(mediaId, {
      lookup,
      expiresAt: Date.now() + (lookup.state === 'ready' ? this.readyTtlMs : this.otherTtlMs),
    });
    return lookup;
  }

  invalidate(mediaId: number): void {
    this.entries.delete(mediaId);
  }

  private async load(mediaId: number): Promise<ItemLookup> {
    const status = await findMediaStatus(this.db, mediaId);
    if (status === undefined) return { state: 'unknown' };
    if (status === 'deleted') return { state: 'deleted' };
    if (status !== 'completed') return { state: 'not-ready', status };
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
    return { state: 'ready', variants };
  }
}
