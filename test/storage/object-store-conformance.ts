/**
 * The behaviours every ObjectStore keeps (src/storage/object-store.ts), as
 * one suite each backend's test file runs against its own store. Every test
 * works under a fresh key namespace, so one store serves the whole suite.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { buffer as collect } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  InvalidRangeError,
  ObjectNotFoundError,
  totalSize,
  type ObjectStore,
} from '../../src/storage/object-store.js';

export interface ConformanceBackend {
  store: ObjectStore;
  /** The same objects, listed a few keys per page (the filesystem has no pages: the same store). */
  smallPages: ObjectStore;
  /** Whether put's contentType and cacheControl are kept (S3) or Content-Type is derived from the extension (fs). */
  keepsMetadata: boolean;
  /** Files withLocalFile handed out that should be gone once it settled (S3: its scratch copies). */
  scratchIsRemoved: boolean;
}

let namespaces = 0;
function namespace(): string {
  namespaces += 1;
  return `conformance-${process.pid}-${Date.now().toString(36)}-${namespaces}/`;
}

async function read(store: ObjectStore, key: string, range?: { start: number; end: number }) {
  const opened = await store.open(key, range ? { range } : {});
  if (!opened) return undefined;
  return { ...opened, bytes: await collect(opened.stream) };
}

/** A stream of `chunks`, one every `delayMs`, then (optionally) an error instead of the end. */
function slowSource(chunks: Buffer[], delayMs: number, failWith?: Error): Readable {
  let index = 0;
  return new Readable({
    read() {
      setTimeout(() => {
        if (index < chunks.length) this.push(chunks[index++]);
        else if (failWith) this.destroy(failWith);
        else this.push(null);
      }, delayMs);
    },
  });
}

/** Flips every byte: shows the transforms ran, in order, on exactly the stored bytes. */
function invert(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, Buffer.from(chunk.map((byte) => 255 - byte)));
    },
  });
}

/** Like retrieve's size limiter: fails once more than `limit` bytes went through. */
function limit(bytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > bytes ? new Error('too large') : null, chunk);
    },
  });
}

const BAD_KEYS = [
  '',
  '/etc/passwd',
  '../x',
  'a/../../b',
  'a//b',
  'a/',
  './a',
  'a/./b',
  'a\\b',
  'bulk/.tmp-x.jpg',
];

export function defineObjectStoreConformance(name: string, backend: () => ConformanceBackend): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    defineReadWrite(backend);
    defineAtomicity(backend);
    defineRanges(backend);
    defineCopyDelete(backend);
    defineListing(backend);
    defineLocalFilesAndKeys(backend);
  });
}

function defineReadWrite(backend: () => ConformanceBackend): void {
  it('round-trips a buffer: bytes, size, etag, date, a type from the extension', async () => {
    const { store } = backend();
    const key = `${namespace()}bulk/2026-12-01/5.jpg`;
    const bytes = randomBytes(70_000);
    expect(await store.put(key, bytes)).toBe(bytes.length);
    const got = await read(store, key);
    expect(got?.bytes.equals(bytes)).toBe(true);
    expect(got).toMatchObject({ size: bytes.length, contentType: 'image/jpeg', range: undefined });
    expect(got?.etag).toMatch(/^".+"$/);
    expect(Math.abs(got!.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('stores an empty object', async () => {
    const { store } = backend();
    const key = `${namespace()}empty.txt`;
    expect(await store.put(key, Buffer.alloc(0))).toBe(0);
    expect((await read(store, key))?.bytes.length).toBe(0);
    expect((await store.stat(key))?.size).toBe(0);
  });

  it('streams through the transforms, in order, and returns the bytes stored', async () => {
    const { store } = backend();
    const key = `${namespace()}stream.bin`;
    const bytes = randomBytes(300_000);
    const hash = createHash('sha256');
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const chunks = [bytes.subarray(0, 100_000), bytes.subarray(100_000)];
    expect(await store.put(key, Readable.from(chunks), { transforms: [invert(), hasher] })).toBe(
      bytes.length,
    );
    const stored = (await read(store, key))!.bytes;
    expect(stored.equals(Buffer.from(bytes.map((byte) => 255 - byte)))).toBe(true);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(stored).digest('hex'));
  });

  it('passes a buffer through the transforms too', async () => {
    const { store } = backend();
    const key = `${namespace()}buffer.bin`;
    expect(await store.put(key, Buffer.from([1, 2, 3]), { transforms: [invert()] })).toBe(3);
    expect([...(await read(store, key))!.bytes]).toEqual([254, 253, 252]);
  });

  it('stat answers size and the etag open gives; a new version changes the etag', async () => {
    const { store } = backend();
    const key = `${namespace()}stat.webp`;
    await store.put(key, Buffer.from('first version'));
    const first = await store.stat(key);
    expect(first?.size).toBe(13);
    const opened = await store.open(key);
    opened?.stream.destroy();
    expect(opened?.etag).toBe(first?.etag);
    await store.put(key, Buffer.from('second, longer version'));
    const second = await store.stat(key);
    expect(second?.size).toBe(22);
    expect(second?.etag).not.toBe(first?.etag);
  });

  it('answers undefined for a missing key (open, stat), also under a missing "directory"', async () => {
    const { store } = backend();
    const ns = namespace();
    await store.put(`${ns}file.jpg`, Buffer.from('x'));
    for (const key of [`${ns}missing.jpg`, `${ns}no/such/dir/x.jpg`, `${ns}file.jpg/below`]) {
      expect(await store.open(key)).toBeUndefined();
      expect(await store.stat(key)).toBeUndefined();
    }
  });

  it('reports Content-Type and Cache-Control: kept where the backend can, else from the extension', async () => {
    const { store, keepsMetadata } = backend();
    const ns = namespace();
    const options = { contentType: 'image/avif', cacheControl: 'public, max-age=31536000, immutable' };
    await store.put(`${ns}variant`, Buffer.from('avif bytes'), options);
    await store.put(`${ns}plain.png`, Buffer.from('png bytes'));
    const variant = await store.open(`${ns}variant`);
    const plain = await store.open(`${ns}plain.png`);
    variant?.stream.destroy();
    plain?.stream.destroy();
    if (keepsMetadata) {
      expect(variant).toMatchObject(options);
    } else {
      expect(variant).toMatchObject({ contentType: 'application/octet-stream', cacheControl: undefined });
    }
    expect(plain).toMatchObject({ contentType: 'image/png', cacheControl: undefined });
  });

  it('passes check()', async () => {
    await expect(backend().store.check()).resolves.toBeUndefined();
  });
}

function defineAtomicity(backend: () => ConformanceBackend): void {
  it('never shows a slow put half-written: a new key is absent, an old one stays whole, until it completes', async () => {
    const { store } = backend();
    const ns = namespace();
    const fresh = `${ns}fresh.jpg`;
    const existing = `${ns}existing.jpg`;
    const old = randomBytes(5_000);
    await store.put(existing, old);
    const chunks = Array.from({ length: 8 }, () => randomBytes(4_000));
    const whole = Buffer.concat(chunks);
    let done = false;
    const puts = Promise.all([
      store.put(fresh, slowSource(chunks, 25)),
      store.put(existing, slowSource(chunks, 25)),
    ]).finally(() => (done = true));
    let looks = 0;
    while (!done) {
      looks += 1;
      // List first, then read: the put may finish between the two, so only
      // "listed implies readable and whole" holds, never the converse.
      const listed = await listKeys(store, ns);
      const [seenFresh, seenExisting] = await Promise.all([read(store, fresh), read(store, existing)]);
      if (seenFresh) expect(seenFresh.bytes.equals(whole)).toBe(true);
      expect(seenExisting!.bytes.equals(old) || seenExisting!.bytes.equals(whole)).toBe(true);
      expect(listed.filter((key) => key !== fresh)).toEqual([existing]);
      if (listed.includes(fresh)) expect(seenFresh).toBeDefined();
    }
    await puts;
    expect(looks).toBeGreaterThan(2);
    expect((await read(store, fresh))!.bytes.equals(whole)).toBe(true);
    expect((await read(store, existing))!.bytes.equals(whole)).toBe(true);
  });

  it('leaves nothing visible when the source or a transform fails, and the old object untouched', async () => {
    const { store } = backend();
    const ns = namespace();
    const old = Buffer.from('the old, complete object');
    await store.put(`${ns}kept.jpg`, old);
    const chunks = [randomBytes(3_000), randomBytes(3_000)];
    await expect(
      store.put(`${ns}new.jpg`, slowSource(chunks, 5, new Error('socket hang up'))),
    ).rejects.toThrow('socket hang up');
    await expect(store.put(`${ns}kept.jpg`, slowSource(chunks, 5, new Error('reset')))).rejects.toThrow(
      'reset',
    );
    await expect(
      store.put(`${ns}limited.jpg`, Readable.from(chunks), { transforms: [limit(4_000)] }),
    ).rejects.toThrow('too large');
    expect(await store.stat(`${ns}new.jpg`)).toBeUndefined();
    expect(await store.stat(`${ns}limited.jpg`)).toBeUndefined();
    expect((await read(store, `${ns}kept.jpg`))!.bytes.equals(old)).toBe(true);
    expect(await listKeys(store, ns)).toEqual([`${ns}kept.jpg`]);
  });
}

function defineRanges(backend: () => ConformanceBackend): void {
  it('reads inclusive ranges, clips an end past the object, reports the whole size', async () => {
    const { store } = backend();
    const key = `${namespace()}ranged.avif`;
    const bytes = randomBytes(10_000);
    await store.put(key, bytes);
    for (const [start, end] of [
      [0, 0],
      [0, 9],
      [1234, 5678],
      [9_999, 9_999],
      [0, 9_999],
    ] as const) {
      const got = await read(store, key, { start, end });
      expect(got?.bytes.equals(bytes.subarray(start, end + 1))).toBe(true);
      expect(got).toMatchObject({ size: 10_000, range: { start, end } });
    }
    const clipped = await read(store, key, { start: 9_000, end: 50_000 });
    expect(clipped?.bytes.equals(bytes.subarray(9_000))).toBe(true);
    expect(clipped?.range).toEqual({ start: 9_000, end: 9_999 });
  });

  it('refuses a range that selects nothing with InvalidRangeError; a missing key is still undefined', async () => {
    const { store } = backend();
    const ns = namespace();
    await store.put(`${ns}small.jpg`, Buffer.from('0123456789'));
    for (const range of [
      { start: 10, end: 20 },
      { start: 5, end: 4 },
      { start: -1, end: 3 },
    ]) {
      await expect(store.open(`${ns}small.jpg`, { range })).rejects.toBeInstanceOf(InvalidRangeError);
    }
    expect(await store.open(`${ns}missing.jpg`, { range: { start: 0, end: 1 } })).toBeUndefined();
  });
}

function defineCopyDelete(backend: () => ConformanceBackend): void {
  it('copies: the copy has the bytes and outlives the source; a missing source answers false', async () => {
    const { store, keepsMetadata } = backend();
    const ns = namespace();
    const bytes = randomBytes(20_000);
    const options = { contentType: 'image/webp', cacheControl: 'public, max-age=31536000, immutable' };
    await store.put(`${ns}library/a/thumbnail.webp`, bytes, options);
    expect(await store.copy(`${ns}library/a/thumbnail.webp`, `${ns}library/b/thumbnail.webp`)).toBe(true);
    await store.delete(`${ns}library/a/thumbnail.webp`);
    const copy = await read(store, `${ns}library/b/thumbnail.webp`);
    expect(copy?.bytes.equals(bytes)).toBe(true);
    if (keepsMetadata) expect(copy).toMatchObject(options);
    expect(await store.copy(`${ns}library/a/thumbnail.webp`, `${ns}library/c/thumbnail.webp`)).toBe(false);
    expect(await store.stat(`${ns}library/c/thumbnail.webp`)).toBeUndefined();
  });

  it("gives a copy the time of the copy, not the source's (cleanup judges orphans by it)", async () => {
    const { store } = backend();
    const ns = namespace();
    await store.put(`${ns}old.webp`, Buffer.from('old bytes'));
    const before = (await store.stat(`${ns}old.webp`))!.lastModified.getTime();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await store.copy(`${ns}old.webp`, `${ns}copy.webp`)).toBe(true);
    const copied = (await store.stat(`${ns}copy.webp`))!.lastModified.getTime();
    expect(copied).toBeGreaterThan(before);
    const listed: number[] = [];
    for await (const object of store.list(`${ns}copy`)) listed.push(object.lastModified.getTime());
    expect(listed).toEqual([copied]);
  });

  it('copies over an existing object, and onto itself', async () => {
    const { store } = backend();
    const ns = namespace();
    await store.put(`${ns}from.jpg`, Buffer.from('new bytes'));
    await store.put(`${ns}to.jpg`, Buffer.from('old bytes, longer'));
    expect(await store.copy(`${ns}from.jpg`, `${ns}to.jpg`)).toBe(true);
    expect((await read(store, `${ns}to.jpg`))!.bytes.toString()).toBe('new bytes');
    expect(await store.copy(`${ns}to.jpg`, `${ns}to.jpg`)).toBe(true);
    expect((await read(store, `${ns}to.jpg`))!.bytes.toString()).toBe('new bytes');
  });

  it('deletes idempotently', async () => {
    const { store } = backend();
    const ns = namespace();
    await store.put(`${ns}gone.jpg`, Buffer.from('x'));
    await store.delete(`${ns}gone.jpg`);
    expect(await store.stat(`${ns}gone.jpg`)).toBeUndefined();
    await expect(store.delete(`${ns}gone.jpg`)).resolves.toBeUndefined();
    await expect(store.delete(`${ns}never/was.jpg`)).resolves.toBeUndefined();
  });
}

async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** Puts `count` small objects under `prefix`, `batch` at a time. */
async function putMany(store: ObjectStore, prefix: string, count: number, batch = 64): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, index) => `${prefix}${index % 7}/${index}.jpg`);
  for (let from = 0; from < keys.length; from += batch) {
    await Promise.all(keys.slice(from, from + batch).map((key) => store.put(key, Buffer.from(key))));
  }
  return keys.sort();
}

function defineListing(backend: () => ConformanceBackend): void {
  it('lists by string prefix, nested, with sizes; a missing prefix lists nothing', async () => {
    const { store } = backend();
    const ns = namespace();
    const keys = [`${ns}a/1.jpg`, `${ns}a/deep/er/2.jpg`, `${ns}ab.jpg`, `${ns}abc/3.jpg`, `${ns}b/4.jpg`];
    for (const key of keys) await store.put(key, Buffer.from(key));
    expect(await listKeys(store, ns)).toEqual(keys);
    expect(await listKeys(store, `${ns}a/`)).toEqual([`${ns}a/1.jpg`, `${ns}a/deep/er/2.jpg`]);
    expect(await listKeys(store, `${ns}ab`)).toEqual([`${ns}ab.jpg`, `${ns}abc/3.jpg`]);
    expect(await listKeys(store, `${ns}nothing/`)).toEqual([]);
    for await (const object of store.list(`${ns}b/`)) {
      expect(object).toMatchObject({ key: `${ns}b/4.jpg`, size: `${ns}b/4.jpg`.length });
      expect(object.lastModified).toBeInstanceOf(Date);
    }
    expect(await totalSize(store, ns)).toEqual({
      objects: 5,
      bytes: keys.reduce((sum, key) => sum + key.length, 0),
    });
  });

  it('pages through many objects, each listed once', async () => {
    const { store, smallPages } = backend();
    const ns = namespace();
    const keys = await putMany(store, ns, 45);
    expect(await listKeys(smallPages, ns)).toEqual(keys);
    expect(await listKeys(smallPages, `${ns}3/`)).toEqual(keys.filter((key) => key.startsWith(`${ns}3/`)));
  });

  it('lists 2,100 objects (more than two full S3 pages of 1,000)', async () => {
    const { store } = backend();
    const ns = namespace();
    const keys = await putMany(store, ns, 2_100);
    expect(await listKeys(store, ns)).toEqual(keys);
    expect((await totalSize(store, ns)).objects).toBe(2_100);
  });

  it('stops cleanly when the caller stops iterating', async () => {
    const { smallPages, store } = backend();
    const ns = namespace();
    await putMany(store, ns, 20);
    let seen = 0;
    for await (const _object of smallPages.list(ns)) {
      seen += 1;
      if (seen === 3) break;
    }
    expect(seen).toBe(3);
  });
}

function defineLocalFilesAndKeys(backend: () => ConformanceBackend): void {
  it('hands a local file with the bytes to a function and returns its result', async () => {
    const { store, scratchIsRemoved } = backend();
    const key = `${namespace()}bulk/2026-12-01/7.png`;
    const bytes = randomBytes(50_000);
    await store.put(key, bytes);
    let handed = '';
    const result = await store.withLocalFile(key, async (localPath) => {
      handed = localPath;
      expect(localPath.endsWith('7.png')).toBe(true);
      expect((await fs.promises.readFile(localPath)).equals(bytes)).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(fs.existsSync(handed)).toBe(!scratchIsRemoved);
    await expect(
      store.withLocalFile(key, (localPath) => {
        handed = localPath;
        return Promise.reject(new Error('sharp failed'));
      }),
    ).rejects.toThrow('sharp failed');
    expect(fs.existsSync(handed)).toBe(!scratchIsRemoved);
  });

  it('withLocalFile on a missing key throws ObjectNotFoundError without calling the function', async () => {
    const { store } = backend();
    let called = false;
    await expect(
      store.withLocalFile(`${namespace()}missing.jpg`, () => {
        called = true;
        return Promise.resolve();
      }),
    ).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(called).toBe(false);
  });

  it('localFile hands a file with the bytes until release(); a missing key is ObjectNotFoundError', async () => {
    const { store, scratchIsRemoved } = backend();
    const key = `${namespace()}bulk/2026-12-01/8.jpg`;
    const bytes = randomBytes(20_000);
    await store.put(key, bytes);
    const local = await store.localFile(key);
    expect(fs.readFileSync(local.path).equals(bytes)).toBe(true);
    await local.release();
    expect(fs.existsSync(local.path)).toBe(!scratchIsRemoved);
    await expect(store.localFile(`${namespace()}missing.jpg`)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('putKeepingLocal stores the object and keeps a local file of exactly what was stored', async () => {
    const { store, scratchIsRemoved } = backend();
    const key = `${namespace()}bulk/2026-12-01/9.png`;
    const chunks = [randomBytes(3_000), randomBytes(3_000)];
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        done(null, chunk);
      },
    });
    const { bytes, local } = await store.putKeepingLocal(key, slowSource(chunks, 1), {
      transforms: [counter],
      contentType: 'image/png',
    });
    const whole = Buffer.concat(chunks);
    expect(bytes).toBe(whole.length);
    expect(seen).toBe(whole.length);
    expect(fs.readFileSync(local.path).equals(whole)).toBe(true);
    expect((await read(store, key))!.bytes.equals(whole)).toBe(true);
    await local.release();
    expect(fs.existsSync(local.path)).toBe(!scratchIsRemoved);
    expect((await read(store, key))!.bytes.equals(whole)).toBe(true);
  });

  it('putKeepingLocal whose source fails stores nothing and leaves no local file', async () => {
    const { store } = backend();
    const ns = namespace();
    await expect(
      store.putKeepingLocal(`${ns}broken.jpg`, slowSource([randomBytes(2_000)], 1, new Error('reset'))),
    ).rejects.toThrow('reset');
    expect(await listKeys(store, ns)).toEqual([]);
  });

  it.each(BAD_KEYS)('refuses the key %j in every operation', async (key) => {
    const { store } = backend();
    const good = `${namespace()}good.jpg`;
    await store.put(good, Buffer.from('x'));
    const attempts: Array<() => Promise<unknown>> = [
      () => store.put(key, Buffer.from('x')),
      () => store.open(key),
      () => store.stat(key),
      () => store.copy(good, key),
      () => store.copy(key, good),
      () => store.delete(key),
      () => store.withLocalFile(key, () => Promise.resolve()),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toThrow(/storage key/);
    expect((await read(store, good))!.bytes.toString()).toBe('x');
  });

  it('refuses a list prefix that escapes', async () => {
    const { store } = backend();
    for (const prefix of ['../', '/abs', 'a//', 'a/../']) {
      await expect(listKeys(store, prefix)).rejects.toThrow(/storage prefix/);
    }
  });
}
