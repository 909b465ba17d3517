/**
 * The read-through cache over real stores: a directory (FsObjectStore) and a
 * bucket on moto_server (S3ObjectStore). What the store is asked is seen
 * through a wrapper that delegates to the real store and counts its opens
 * (and can cut a body off halfway); everything else is observed on disk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { buffer as collect } from 'node:stream/consumers';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMP_PREFIX } from '../../src/storage/atomic-file.js';
import { STALE_TEMP_MS } from '../../src/storage/cache-index.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import {
  InvalidRangeError,
  type ByteRange,
  type ObjectStore,
  type OpenedObject,
} from '../../src/storage/object-store.js';
import { ReadThroughCache, type CacheResult } from '../../src/storage/read-through-cache.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { useMotoServer } from '../helpers/moto-server.js';

const moto = useMotoServer();

const BUCKET = 'media-read-through-cache';
let work: string;
let fsStore: FsObjectStore;
let s3Store: S3ObjectStore | undefined;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'read-through-cache-'));
  fsStore = new FsObjectStore(path.join(work, 'store'));
  if (!moto.available) return;
  s3Store = new S3ObjectStore({
    bucket: BUCKET,
    prefix: 'media/',
    endpoint: moto.server.endpoint,
    forcePathStyle: true,
    scratchDir: path.join(work, 's3-scratch'),
  });
  await s3Store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await s3Store?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The real store, with its opens counted; `cutOffNext` bodies end in an error halfway. */
function watched(real: ObjectStore): { store: ObjectStore; opens: () => number; cutOffNext: number } {
  const watch = { opens: 0, cutOffNext: 0 };
  const open = async (key: string, options?: { range?: ByteRange }): Promise<OpenedObject | undefined> => {
    watch.opens += 1;
    const opened = await real.open(key, options);
    if (!opened || watch.cutOffNext === 0) return opened;
    watch.cutOffNext -= 1;
    return { ...opened, stream: Readable.from(halfThenFail(opened.stream)) };
  };
  const store = new Proxy(real, {
    get(target, property) {
      if (property === 'open') return open;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store,
    opens: () => watch.opens,
    set cutOffNext(count: number) {
      watch.cutOffNext = count;
    },
  };
}

async function* halfThenFail(stream: Readable): AsyncGenerator<Buffer> {
  const bytes = await collect(stream);
  yield bytes.subarray(0, Math.floor(bytes.length / 2));
  throw new Error('connection reset by the test');
}

/** A pino logger whose lines the test can read. */
function capturedLog(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return {
    log: pino({ level: 'warn' }, destination),
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function read(opened: OpenedObject | undefined): Promise<string | undefined> {
  return opened ? (await collect(opened.stream)).toString() : undefined;
}

function filesIn(directory: string): string[] {
  return fs.readdirSync(directory).sort();
}

function defineCacheSuite(backend: string, realStore: () => ObjectStore): void {
  describe(`ReadThroughCache over ${backend}`, () => {
    let tests = 0;
    let prefix: string;
    let directory: string;

    /** A fresh key namespace and cache directory per cache set-up. */
    function setUp(maxBytes = 8000, log?: Logger) {
      tests += 1;
      prefix = `rtc-${tests}/`;
      directory = path.join(work, `${backend.replace(/\W+/g, '-')}-cache-${tests}`);
      const watch = watched(realStore());
      const results: CacheResult[] = [];
      const make = (max = maxBytes) =>
        new ReadThroughCache({
          store: watch.store,
          directory,
          maxBytes: max,
          log,
          onResult: (result) => results.push(result),
          // Every hit writes its recency to disk, so that a restart's order is exact here.
          stampEveryMs: 0,
        });
      return { watch, results, make, key: (name: string) => `${prefix}${name}` };
    }

    it('serves a hit from disk with the same bytes, without asking the store', async () => {
      const { watch, results, make, key } = setUp();
      const cache = make();
      await cache.start();
      await watch.store.put(key('1.webp'), Buffer.from('first bytes'));
      const missed = await cache.open(key('1.webp'), 'v1');
      expect(await read(missed)).toBe('first bytes');
      const stored = await watch.store.stat(key('1.webp'));
      await watch.store.delete(key('1.webp'));
      const hit = await cache.open(key('1.webp'), 'v1');
      expect(hit).toMatchObject({
        size: 11,
        etag: '"v1"',
        contentType: 'image/webp',
        cacheControl: undefined,
        range: undefined,
      });
      // The object's own Last-Modified, so that filling the entry again does not change it.
      expect(hit?.lastModified.getTime()).toBe(stored?.lastModified.getTime());
      expect(await read(hit)).toBe('first bytes');
      expect(watch.opens()).toBe(1);
      expect(results).toEqual(['miss', 'hit']);
      expect(cache.stats()).toEqual({ entries: 1, bytes: 11, maxBytes: 8000 });
      await watch.store.put(key('1.webp'), Buffer.from('first bytes'));
      const quoted = await cache.open(key('1.webp'), '"already-quoted"');
      expect(quoted?.etag).toBe('"already-quoted"');
      await read(quoted);
    });

    it('misses on a new version under the same key and serves its bytes', async () => {
      const { watch, results, make, key } = setUp();
      const cache = make();
      await cache.start();
      await watch.store.put(key('1.jpg'), Buffer.from('old render'));
      expect(await read(await cache.open(key('1.jpg'), 'sha-old'))).toBe('old render');
      await watch.store.put(key('1.jpg'), Buffer.from('new render!'));
      expect(await read(await cache.open(key('1.jpg'), 'sha-new'))).toBe('new render!');
      expect(await read(await cache.open(key('1.jpg'), 'sha-new'))).toBe('new render!');
      expect(results).toEqual(['miss', 'miss', 'hit']);
      expect(watch.opens()).toBe(2);
    });

    it('never caches bytes that are not the version asked for (the key was re-rendered meanwhile)', async () => {
      const { watch, results, key } = setUp();
      const sha = (text: string) => createHash('sha256').update(text).digest('hex');
      const cache = new ReadThroughCache({
        store: watch.store,
        directory,
        maxBytes: 8000,
        onResult: (result) => results.push(result),
        isVersion: (version, sha256) => version === sha256.toString('hex'),
      });
      await cache.start();
      await watch.store.put(key('1.webp'), Buffer.from('the new render'));
      // A reader still holding the old version's ETag gets what the store has, uncached.
      expect(await read(await cache.open(key('1.webp'), sha('the old render')))).toBe('the new render');
      expect(filesIn(directory)).toEqual([]);
      expect(cache.stats().entries).toBe(0);
      expect(await read(await cache.open(key('1.webp'), sha('the new render')))).toBe('the new render');
      expect(await read(await cache.open(key('1.webp'), sha('the new render')))).toBe('the new render');
      expect(results).toEqual(['miss', 'miss', 'hit']);
      expect(filesIn(directory)).toHaveLength(1);
    });

    it('serves ranges on a miss and on a hit: clipped, size the whole object, 416 outside', async () => {
      const { watch, make, key } = setUp();
      const cache = make();
      await cache.start();
      await watch.store.put(key('r.png'), Buffer.from('0123456789'));
      const missed = await cache.open(key('r.png'), 'v', { range: { start: 2, end: 5 } });
      expect(missed).toMatchObject({ size: 10, range: { start: 2, end: 5 } });
      expect(await read(missed)).toBe('2345');
      const hit = await cache.open(key('r.png'), 'v', { range: { start: 7, end: 100 } });
      expect(hit).toMatchObject({ size: 10, range: { start: 7, end: 9 } });
      expect(await read(hit)).toBe('789');
      await expect(cache.open(key('r.png'), 'v', { range: { start: 10, end: 12 } })).rejects.toBeInstanceOf(
        InvalidRangeError,
      );
      await watch.store.put(key('cold.png'), Buffer.from('abc'));
      await expect(cache.open(key('cold.png'), 'v', { range: { start: 3, end: 3 } })).rejects.toBeInstanceOf(
        InvalidRangeError,
      );
      await expect(cache.open(key('r.png'), 'v', { range: { start: 5, end: 2 } })).rejects.toBeInstanceOf(
        InvalidRangeError,
      );
      expect(watch.opens()).toBe(2);
    });

    it('reads a cold entry from the store once for 20 concurrent opens', async () => {
      const { watch, results, make, key } = setUp();
      const cache = make();
      await cache.start();
      await watch.store.put(key('hot.avif'), Buffer.from('hot variant bytes'));
      const opened = await Promise.all(Array.from({ length: 20 }, () => cache.open(key('hot.avif'), 'v')));
      const bodies = await Promise.all(opened.map(read));
      expect(new Set(bodies)).toEqual(new Set(['hot variant bytes']));
      expect(watch.opens()).toBe(1);
      expect(results).toHaveLength(20);
      expect(filesIn(directory)).toHaveLength(1);
    });

    it('evicts the least recently used entries, keeping the total within maxBytes', async () => {
      const { watch, make, key } = setUp(8000);
      const cache = make();
      await cache.start();
      const body = (index: number) => Buffer.alloc(1000, index);
      for (let index = 0; index < 9; index += 1) await watch.store.put(key(`${index}.jpg`), body(index));
      for (let index = 0; index < 8; index += 1) await read(await cache.open(key(`${index}.jpg`), 'v'));
      expect(cache.stats()).toEqual({ entries: 8, bytes: 8000, maxBytes: 8000 });
      await read(await cache.open(key('0.jpg'), 'v')); // 0 is now the most recently used; 1 the least
      await read(await cache.open(key('8.jpg'), 'v'));
      expect(cache.stats()).toEqual({ entries: 8, bytes: 8000, maxBytes: 8000 });
      expect(filesIn(directory)).toHaveLength(8);
      const before = watch.opens();
      await read(await cache.open(key('0.jpg'), 'v'));
      expect(watch.opens()).toBe(before);
      await read(await cache.open(key('1.jpg'), 'v'));
      expect(watch.opens()).toBe(before + 1);
    });

    it('survives a restart: a new instance serves from the same directory without the store', async () => {
      const { watch, results, make, key } = setUp();
      const first = make();
      await first.start();
      await watch.store.put(key('kept.webp'), Buffer.from('kept bytes'));
      await read(await first.open(key('kept.webp'), 'v'));
      await watch.store.delete(key('kept.webp'));
      const second = make();
      await second.start();
      expect(second.stats()).toEqual({ entries: 1, bytes: 10, maxBytes: 8000 });
      expect(await read(await second.open(key('kept.webp'), 'v'))).toBe('kept bytes');
      expect(results).toEqual(['miss', 'hit']);
      expect(watch.opens()).toBe(1);
    });

    it('evicts at start when the directory holds more than a lowered cap, least recently used first', async () => {
      const { watch, make, key } = setUp(8000);
      const first = make();
      await first.start();
      for (const name of ['a', 'b', 'c']) {
        await watch.store.put(key(`${name}.jpg`), Buffer.alloc(100, name));
        await read(await first.open(key(`${name}.jpg`), 'v'));
      }
      await read(await first.open(key('a.jpg'), 'v')); // order of use now: b, c, a
      const smaller = make(250);
      await smaller.start();
      expect(smaller.stats()).toEqual({ entries: 2, bytes: 200, maxBytes: 250 });
      expect(filesIn(directory)).toHaveLength(2);
      const before = watch.opens();
      await read(await smaller.open(key('a.jpg'), 'v'));
      await read(await smaller.open(key('c.jpg'), 'v'));
      expect(watch.opens()).toBe(before);
    });

    it('removes stale temp files at start, and leaves young ones and files not its own', async () => {
      const { make } = setUp();
      fs.mkdirSync(directory, { recursive: true });
      const stale = path.join(directory, `${TEMP_PREFIX}abc-stale`);
      const young = path.join(directory, `${TEMP_PREFIX}def-young`);
      for (const file of [stale, young, path.join(directory, 'README')]) fs.writeFileSync(file, 'partial');
      const longAgo = new Date(Date.now() - 2 * STALE_TEMP_MS);
      fs.utimesSync(stale, longAgo, longAgo);
      const cache = make();
      await cache.start();
      expect(filesIn(directory)).toEqual([path.basename(young), 'README'].sort());
      expect(cache.stats().entries).toBe(0);
    });

    it('answers from the store when a fill fails midway, leaving no temp file and one warning', async () => {
      const captured = capturedLog();
      const { watch, results, make, key } = setUp(8000, captured.log);
      const cache = make();
      await cache.start();
      await watch.store.put(key('cut.jpg'), Buffer.from('a body cut off halfway'));
      watch.cutOffNext = 1;
      expect(await read(await cache.open(key('cut.jpg'), 'v'))).toBe('a body cut off halfway');
      expect(filesIn(directory)).toEqual([]);
      expect(watch.opens()).toBe(2);
      expect(captured.lines()).toEqual([
        expect.objectContaining({ level: 40, err: 'connection reset by the test', key: key('cut.jpg') }),
      ]);
      expect(JSON.stringify(captured.lines())).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
      expect(await read(await cache.open(key('cut.jpg'), 'v'))).toBe('a body cut off halfway');
      expect(await read(await cache.open(key('cut.jpg'), 'v'))).toBe('a body cut off halfway');
      expect(results).toEqual(['miss', 'miss', 'hit']);
    });

    it('answers from the store when the cache directory is gone after start', async () => {
      const captured = capturedLog();
      const { watch, make, key } = setUp(8000, captured.log);
      const cache = make();
      await cache.start();
      fs.rmSync(directory, { recursive: true });
      await watch.store.put(key('d.jpg'), Buffer.from('still served'));
      expect(await read(await cache.open(key('d.jpg'), 'v'))).toBe('still served');
      expect(captured.lines()).toEqual([
        expect.objectContaining({ key: key('d.jpg'), err: expect.any(String) }),
      ]);
    });

    it('serves everything from the store when the cache directory cannot be made (a file stands there)', async () => {
      const captured = capturedLog();
      const { watch, results, make, key } = setUp(8000, captured.log);
      fs.writeFileSync(directory, 'not a directory');
      const cache = make();
      await cache.start();
      await watch.store.put(key('f.jpg'), Buffer.from('from the store'));
      expect(await read(await cache.open(key('f.jpg'), 'v'))).toBe('from the store');
      expect(await read(await cache.open(key('f.jpg'), 'v', { range: { start: 5, end: 7 } }))).toBe('the');
      expect(results).toEqual(['bypass', 'bypass']);
      expect(watch.opens()).toBe(2);
      expect(captured.lines()).toEqual([
        expect.objectContaining({ level: 40, directory, err: expect.any(String) }),
      ]);
    });

    it('invalidate drops every version of a key, after a restart too', async () => {
      const { watch, make, key } = setUp();
      const first = make();
      await first.start();
      await watch.store.put(key('gone.jpg'), Buffer.from('one'));
      await read(await first.open(key('gone.jpg'), 'v1'));
      await read(await first.open(key('gone.jpg'), 'v2'));
      await watch.store.put(key('other.jpg'), Buffer.from('other'));
      await read(await first.open(key('other.jpg'), 'v1'));
      const second = make();
      await second.start();
      await second.invalidate(key('gone.jpg'));
      expect(second.stats()).toEqual({ entries: 1, bytes: 5, maxBytes: 8000 });
      expect(filesIn(directory)).toHaveLength(1);
      await watch.store.delete(key('gone.jpg'));
      expect(await second.open(key('gone.jpg'), 'v1')).toBeUndefined();
    });

    it('answers undefined for an object missing in the store, dropping the entries of its key', async () => {
      const { watch, results, make, key } = setUp();
      const cache = make();
      await cache.start();
      expect(await cache.open(key('never.jpg'), 'v')).toBeUndefined();
      await watch.store.put(key('deleted.jpg'), Buffer.from('bytes'));
      await read(await cache.open(key('deleted.jpg'), 'v1'));
      await watch.store.delete(key('deleted.jpg'));
      expect(await cache.open(key('deleted.jpg'), 'v2')).toBeUndefined();
      expect(cache.stats().entries).toBe(0);
      expect(filesIn(directory)).toEqual([]);
      expect(results).toEqual(['miss', 'miss', 'miss']);
    });

    it('passes objects above maxBytes / 8 through to the store, without caching them', async () => {
      const { watch, results, make, key } = setUp(8000);
      const cache = make();
      await cache.start();
      await watch.store.put(key('big.jpg'), Buffer.alloc(1001, 'b'));
      expect(await read(await cache.open(key('big.jpg'), 'v'))).toBe('b'.repeat(1001));
      const ranged = await cache.open(key('big.jpg'), 'v', { range: { start: 1000, end: 2000 } });
      expect(ranged).toMatchObject({ size: 1001, range: { start: 1000, end: 1000 } });
      expect(await read(ranged)).toBe('b');
      expect(results).toEqual(['bypass', 'bypass']);
      expect(cache.stats().entries).toBe(0);
      expect(filesIn(directory)).toEqual([]);
    });

    it('still serves a reader whose file is evicted meanwhile; a file gone at hit time is refilled', async () => {
      const { watch, results, make, key } = setUp();
      const cache = make();
      await cache.start();
      await watch.store.put(key('e.jpg'), Buffer.from('open handle'));
      await read(await cache.open(key('e.jpg'), 'v'));
      const hit = await cache.open(key('e.jpg'), 'v');
      await cache.invalidate(key('e.jpg'));
      expect(filesIn(directory)).toEqual([]);
      expect(await read(hit)).toBe('open handle');
      await read(await cache.open(key('e.jpg'), 'v'));
      for (const name of filesIn(directory)) fs.rmSync(path.join(directory, name)); // another process evicted it
      expect(await read(await cache.open(key('e.jpg'), 'v'))).toBe('open handle');
      expect(results).toEqual(['miss', 'hit', 'miss', 'miss']);
      expect(watch.opens()).toBe(3);
    });
  });
}

defineCacheSuite('the filesystem', () => fsStore);

describe.skipIf(!moto.available)('on moto_server', () => {
  defineCacheSuite('S3 (moto)', () => s3Store!);
});
