/**
 * A bounded local copy of the hot objects of an ObjectStore (a bucket), so
 * that /serve does not go back to the store for every request.
 *
 * - An entry is (key, version): `version` is the variant's recorded ETag or
 *   content hash, so a variant re-rendered under the same key is a new entry,
 *   never stale bytes.
 * - A miss downloads the whole object to a temp file in the cache directory
 *   and renames it into place (a reader never sees a part), once per entry
 *   however many requests wait for it, then serves the file like a hit.
 * - Objects above maxBytes / 8 are not cached: each would push out many others.
 * - The cache never fails a request the store can answer: a failed fill (a
 *   full disk, a body cut off) logs one warning, and that request is read
 *   from the store. A store that cannot be read fails the request, as it
 *   would without a cache.
 * - Bounded by bytes, least recently used out first; the directory outlives
 *   the process (start() rebuilds the index from it: cache-index.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { silentLogger, type Logger } from '../log.js';
import { CacheIndex, cacheFileName, keyPrefix, scanCacheDirectory } from './cache-index.js';
import { makeDirectory } from './make-directory.js';
import {
  assertKey,
  assertRangeShape,
  clipRange,
  contentTypeFor,
  type ByteRange,
  type ObjectStore,
  type OpenedObject,
} from './object-store.js';
import { TEMP_PREFIX } from './atomic-file.js';

export type CacheResult = 'hit' | 'miss' | 'bypass';

export interface ReadThroughCacheOptions {
  store: ObjectStore;
  directory: string;
  maxBytes: number;
  log?: Logger;
  onResult?: (result: CacheResult) => void;
  /**
   * Whether bytes with this sha256 are `version` (for variants: the ETag is
   * the content hash). A fill that fails it is discarded, never cached: the
   * object under the key changed (a re-render) after the version was read.
   */
  isVersion?: (version: string, sha256: Buffer) => boolean;
  /** How often a hit writes its entry's atime at the most (default a minute). */
  stampEveryMs?: number;
}

/** How often a hit entry's atime is written at the most (it orders the index a restart rebuilds). */
const STAMP_EVERY_MS = 60_000;

/** Objects larger than maxBytes / this are served from the store, never cached. */
const LARGEST_ENTRY_FRACTION = 8;
/** How many too-large entries are remembered, so that their requests go straight to the store. */
const REMEMBERED_TOO_LARGE = 1024;

type FillOutcome = 'cached' | 'missing' | 'too-large' | 'not-cached';

interface Fill {
  outcome: Promise<FillOutcome>;
  /** Set by invalidate(): the bytes being downloaded may belong to a deleted item. */
  cancelled: boolean;
}

export class ReadThroughCache {
  private readonly store: ObjectStore;
  private readonly directory: string;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private readonly onResult: (result: CacheResult) => void;
  private readonly isVersion: (version: string, sha256: Buffer) => boolean;
  private readonly stampEveryMs: number;
  private readonly index = new CacheIndex();
  private readonly fills = new Map<string, Fill>();
  private readonly tooLarge = new Set<string>();
  /** start() found the directory unusable: every request goes to the store. */
  private disabled = false;
  private lastUseSeconds = 0;

  constructor(options: ReadThroughCacheOptions) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
      throw new Error(`read-through cache maxBytes must be a positive integer, not ${options.maxBytes}`);
    }
    this.store = options.store;
    this.directory = path.resolve(options.directory);
    this.maxBytes = options.maxBytes;
    this.log = options.log ?? silentLogger();
    this.onResult = options.onResult ?? (() => undefined);
    this.isVersion = options.isVersion ?? (() => true);
    this.stampEveryMs = options.stampEveryMs ?? STAMP_EVERY_MS;
  }

  /** Creates the directory and indexes what an earlier run left in it; a directory it cannot use disables the cache. */
  async start(): Promise<void> {
    try {
      await makeDirectory(this.directory);
      for (const file of await scanCacheDirectory(this.directory)) this.index.add(file.name, file.size);
    } catch (error) {
      this.disabled = true;
      this.log.warn(
        { err: messageOf(error), directory: this.directory },
        'read-through cache directory is unusable: serving from the store',
      );
      return;
    }
    await this.evict(); // the cap may have been lowered since
  }

  /** ObjectStore.open's contract, for the object's bytes at `version`. */
  async open(
    key: string,
    version: string,
    options: { range?: ByteRange } = {},
  ): Promise<OpenedObject | undefined> {
    assertKey(key);
    if (options.range) assertRangeShape(options.range);
    const name = cacheFileName(key, version);
    if (this.disabled || this.tooLarge.has(name)) return this.openFromStore(key, options.range, 'bypass');
    const hit = await this.openEntry(name, key, version, options.range);
    if (hit) return this.answer('hit', hit);
    const outcome = await this.fillOnce(name, key, version);
    if (outcome === 'missing') return this.answer('miss', undefined);
    if (outcome === 'too-large') return this.openFromStore(key, options.range, 'bypass');
    const filled = outcome === 'cached' && (await this.openEntry(name, key, version, options.range));
    // Not cached, or evicted again before this request got to it.
    return filled ? this.answer('miss', filled) : this.openFromStore(key, options.range, 'miss');
  }

  /** Drops every cached version of `key` (its item was deleted). */
  async invalidate(key: string): Promise<void> {
    const prefix = keyPrefix(key);
    for (const [name, fill] of this.fills) if (name.startsWith(prefix)) fill.cancelled = true;
    const names = this.index.namesStartingWith(prefix);
    for (const name of names) this.index.remove(name);
    await Promise.all(names.map((name) => this.unlinkEntry(name)));
  }

  stats(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.index.entries, bytes: this.index.bytes, maxBytes: this.maxBytes };
  }

  private answer(result: CacheResult, opened: OpenedObject | undefined): OpenedObject | undefined {
    this.onResult(result);
    return opened;
  }

  private async openFromStore(
    key: string,
    range: ByteRange | undefined,
    result: CacheResult,
  ): Promise<OpenedObject | undefined> {
    const opened = await this.store.open(key, range ? { range } : {});
    if (!opened) await this.invalidate(key);
    return this.answer(result, opened);
  }

  /**
   * The entry's file, opened before answering (an eviction or another process
   * may unlink it meanwhile: the open handle keeps the bytes); undefined when absent.
   */
  private async openEntry(
    name: string,
    key: string,
    version: string,
    range: ByteRange | undefined,
  ): Promise<OpenedObject | undefined> {
    const handle = await fsp.open(this.pathOf(name), 'r').catch(() => undefined);
    if (!handle) {
      this.index.remove(name);
      return undefined;
    }
    try {
      const stats = await handle.stat();
      const clipped = range ? clipRange(range, stats.size) : undefined;
      // The order in memory is exact; the atime on disk only orders a restart's
      // index, so it is written at most once a minute per entry (stampEveryMs): a metadata
      // write per hit would cost the hot path more than the open itself.
      // Best effort: a file of another user's process may refuse it.
      if (Date.now() - this.index.stampedAt(name) >= this.stampEveryMs) {
        await handle.utimes(this.nextUseStamp(), stats.mtimeMs / 1000).catch(() => undefined);
        this.index.markStamped(name, Date.now());
      }
      // Not known at this size: another process sharing the directory filled it.
      if (!this.index.add(name, stats.size)) await this.evict();
      return {
        stream: handle.createReadStream({ start: clipped?.start, end: clipped?.end, autoClose: true }),
        size: stats.size,
        etag: quoted(version),
        lastModified: stats.mtime,
        contentType: contentTypeFor(key),
        cacheControl: undefined,
        range: clipped,
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Fills `name` from the store, or joins the fill already under way. */
  private fillOnce(name: string, key: string, version: string): Promise<FillOutcome> {
    const running = this.fills.get(name);
    if (running) return running.outcome;
    const fill: Fill = { outcome: Promise.resolve('not-cached'), cancelled: false };
    fill.outcome = this.fill(name, key, version, fill).finally(() => {
      if (this.fills.get(name) === fill) this.fills.delete(name);
    });
    this.fills.set(name, fill);
    return fill.outcome;
  }

  private async fill(name: string, key: string, version: string, fill: Fill): Promise<FillOutcome> {
    // A fill that finished after this request looked is as good as this one: one download per entry.
    if (await isFile(this.pathOf(name))) return 'cached';
    const opened = await this.store.open(key);
    if (!opened) {
      await this.invalidate(key);
      return 'missing';
    }
    if (opened.size > this.maxBytes / LARGEST_ENTRY_FRACTION) {
      opened.stream.destroy();
      this.rememberTooLarge(name);
      return 'too-large';
    }
    try {
      await this.download(name, version, opened);
    } catch (error) {
      this.log.warn({ err: messageOf(error), key }, 'read-through cache fill failed: serving from the store');
      return 'not-cached';
    }
    if (fill.cancelled) {
      await this.unlinkEntry(name);
      return 'not-cached';
    }
    this.index.add(name, opened.size, Date.now()); // download() stamped it
    await this.evict();
    return 'cached';
  }

  /** Writes the object to a temp file beside the entry, then renames it: the entry appears whole or not at all. */
  private async download(name: string, version: string, opened: OpenedObject): Promise<void> {
    const temp = this.pathOf(`${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${name}`);
    const writer = fs.createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true });
    try {
      const hash = createHash('sha256');
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      // flush: fsync before close, so that after a power cut the entry is whole or absent, never zeros.
      await pipeline(opened.stream, tap, writer);
      const { size } = await fsp.stat(temp);
      if (size !== opened.size) throw new Error(`the store sent ${size} of ${opened.size} bytes`);
      if (!this.isVersion(version, hash.digest())) {
        throw new Error(`the store holds other bytes than version ${version} (re-rendered meanwhile?)`);
      }
      // mtime: the object's, so that Last-Modified does not change when an entry is filled again.
      const stamp = this.nextUseStamp();
      const modified = opened.lastModified.getTime() > 0 ? opened.lastModified.getTime() / 1000 : stamp;
      await fsp.utimes(temp, stamp, modified);
      await fsp.rename(temp, this.pathOf(name));
    } catch (error) {
      opened.stream.destroy();
      // A body that fails early may do so before the writer has even opened
      // the temp file: remove it only once the writer is closed, or it appears after.
      if (!writer.closed) await new Promise<void>((resolve) => writer.once('close', () => resolve()));
      await fsp.rm(temp, { force: true });
      throw error;
    }
  }

  private async evict(): Promise<void> {
    await Promise.all(this.index.evictOver(this.maxBytes).map((name) => this.unlinkEntry(name)));
  }

  private async unlinkEntry(name: string): Promise<void> {
    try {
      await fsp.rm(this.pathOf(name), { force: true });
    } catch (error) {
      this.log.warn(
        { err: messageOf(error), file: this.pathOf(name) },
        'read-through cache cannot remove a file',
      );
    }
  }

  private rememberTooLarge(name: string): void {
    this.tooLarge.add(name);
    const oldest = this.tooLarge.values().next().value;
    if (this.tooLarge.size > REMEMBERED_TOO_LARGE && oldest !== undefined) this.tooLarge.delete(oldest);
  }

  /**
   * Now in seconds (utimes keeps the fraction), but always after the previous
   * stamp: entries used within the same instant keep their order on disk.
   */
  private nextUseStamp(): number {
    this.lastUseSeconds = Math.max(Date.now() / 1000, this.lastUseSeconds + 1e-5);
    return this.lastUseSeconds;
  }

  private pathOf(name: string): string {
    return path.join(this.directory, name);
  }
}

/** ETags are quoted in HTTP and in ObjectInfo; a recorded content hash usually is not. */
function quoted(version: string): string {
  return /^(W\/)?".*"$/.test(version) ? version : `"${version}"`;
}

async function isFile(file: string): Promise<boolean> {
  return (await fsp.stat(file).catch(() => undefined))?.isFile() === true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
