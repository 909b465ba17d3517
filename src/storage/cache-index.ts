/**
 * What the read-through cache's directory holds (read-through-cache.ts), and
 * in which order its entries leave it.
 *
 * One file per (key, version), named `<sha256(key)>-<sha256(version), first
 * 16 hex>`: no key can choose a path, and every version of a key shares the
 * prefix, so invalidate(key) finds them without keys being stored anywhere,
 * after a restart too.
 *
 * The index maps name → bytes, least recently used first (a Map keeps
 * insertion order; a use re-inserts). On disk a file's atime is its last use:
 * the cache sets it explicitly (noatime mounts do not matter), and the scan at
 * start-up sorts by it, so the order survives a restart.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TEMP_PREFIX } from './atomic-file.js';

const NAME_PATTERN = /^[0-9a-f]{64}-[0-9a-f]{16}$/;

/**
 * A temp file not written to for this long belongs to no running fill (a fill
 * writes as its bytes arrive, and the store's client gives up long before):
 * another process sharing the directory may be filling the younger ones.
 */
export const STALE_TEMP_MS = 5 * 60 * 1000;

export function cacheFileName(key: string, version: string): string {
  return keyPrefix(key) + sha256(version).slice(0, 16);
}

/** Every cached version of `key` has a name starting with this. */
export function keyPrefix(key: string): string {
  return `${sha256(key)}-`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class CacheIndex {
  /** Entry → its size and when its file's atime was last set (recency on disk, for a restart). */
  private readonly sizes = new Map<string, { size: number; stampedAtMs: number }>();
  private totalBytes = 0;

  get entries(): number {
    return this.sizes.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Records `name` as the most recently used entry. Answers whether it was already known at this size. */
  add(name: string, size: number, stampedAtMs = 0): boolean {
    const known = this.sizes.get(name);
    this.remove(name);
    this.sizes.set(name, { size, stampedAtMs: known?.size === size ? known.stampedAtMs : stampedAtMs });
    this.totalBytes += size;
    return known?.size === size;
  }

  /** When the entry's file was last stamped as used (0: never by this process). */
  stampedAt(name: string): number {
    return this.sizes.get(name)?.stampedAtMs ?? 0;
  }

  markStamped(name: string, atMs: number): void {
    const entry = this.sizes.get(name);
    if (entry) entry.stampedAtMs = atMs;
  }

  remove(name: string): void {
    const entry = this.sizes.get(name);
    if (entry === undefined) return;
    this.sizes.delete(name);
    this.totalBytes -= entry.size;
  }

  namesStartingWith(prefix: string): string[] {
    return [...this.sizes.keys()].filter((name) => name.startsWith(prefix));
  }

  /** Drops least recently used entries until at most `maxBytes` remain; returns their names (to unlink). */
  evictOver(maxBytes: number): string[] {
    const evicted: string[] = [];
    for (const name of this.sizes.keys()) {
      if (this.totalBytes <= maxBytes) break;
      this.remove(name);
      evicted.push(name);
    }
    return evicted;
  }
}

export interface CacheFile {
  name: string;
  size: number;
  lastUsedMs: number;
}

/**
 * The cache files in `directory`, least recently used first. Removes stale
 * temp files (fills cut short by a crash); leaves files that are not the
 * cache's alone.
 */
export async function scanCacheDirectory(directory: string, nowMs = Date.now()): Promise<CacheFile[]> {
  const files: CacheFile[] = [];
  for (const entry of await fsp.readdir(directory, { withFileTypes: true })) {
    const isTemp = entry.name.startsWith(TEMP_PREFIX);
    if (!isTemp && !(entry.isFile() && NAME_PATTERN.test(entry.name))) continue;
    const file = path.join(directory, entry.name);
    // Gone meanwhile: another process sharing the directory evicted it.
    const stats = await fsp.stat(file).catch(() => undefined);
    if (!stats) continue;
    if (!isTemp) files.push({ name: entry.name, size: stats.size, lastUsedMs: stats.atimeMs });
    else if (nowMs - stats.mtimeMs > STALE_TEMP_MS) await fsp.rm(file, { force: true, recursive: true });
  }
  return files.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
}
