/**
 * Small variant bodies kept in memory (SERVE_MEMORY_CACHE_MB), least
 * recently served evicted first, bounded by bytes. Keyed by ETag, which is
 * the content hash: an entry is never stale; a re-render has a new ETag and
 * a new key, and the old entry ages out.
 * Each body is at most 1/64 of the cache, so one zoom cannot flush the
 * hundreds of thumbnails a page shows.
 */
export class MemoryBodyCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  readonly maxEntryBytes: number;

  constructor(private readonly maxBytes: number) {
    this.maxEntryBytes = Math.floor(maxBytes / 64);
  }

  get(key: string): Buffer | undefined {
    const body = this.entries.get(key);
    if (body === undefined) return undefined;
    // Map order is insertion order: re-inserting makes it the most recent.
    this.entries.delete(key);
    this.entries.set(key, body);
    return body;
  }

  set(key: string, body: Buffer): void {
    if (body.length > this.maxEntryBytes || this.entries.has(key)) return;
    this.entries.set(key, body);
    this.bytes += body.length;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.length;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
