/**
 * In-memory cache of what each item can serve, so a cached /serve hit costs
 * no database query. Entries expire quickly (another process may complete or
 * delete the item) and are dropped at once when this process changes the item
 * or a file turns out to be missing. Bounded: the oldest entries go first.
 */
import type { Db } from '../db/connect.js';
import type { MediaStatus } from '../db/records.js';

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
    const media = (await this.db('media_files').select('status').where({ id: mediaId }).first()) as
      { status: MediaStatus } | undefined;
    if (!media) return { state: 'unknown' };
    if (media.status === 'deleted') return { state: 'deleted' };
    if (media.status !== 'completed') return { state: 'not-ready', status: media.status };
    const rows = (await this.db('media_variants')
      .select('size', 'format', 'bg', 'path', 'etag', 'bytes', 'created_at')
      .where({ media_id: mediaId })) as Array<
      Omit<ServableVariant, 'lastModified' | 'bytes'> & {
        bytes: number | string;
        created_at: number | string;
      }
    >;
    const variants = rows.map(({ created_at, bytes, ...row }) => ({
      ...row,
      bytes: Number(bytes),
      lastModified: new Date(Number(created_at)).toUTCString(),
    }));
    return { state: 'ready', variants };
  }
}
