/**
 * copyObjects between a real directory and a real S3 API (moto_server on
 * 127.0.0.1): both directions over two list pages, resuming an interrupted
 * run, destination objects that differ, verification failures, dry runs.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VARIANT_CACHE_CONTROL as IMMUTABLE_CACHE_CONTROL } from '../../src/images/presets.js';
import { copyObjects, type ObjectOutcome } from '../../src/storage/copy-objects.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { ObjectStore, PutOptions } from '../../src/storage/object-store.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { useMotoServer } from '../helpers/moto-server.js';

const moto = useMotoServer();

const BUCKET = 'copy-objects';
/** Fewer than the fixture's objects, so every listing of the bucket takes two pages. */
const PAGE_SIZE = 200;
const OBJECT_COUNT = 301;

let dir: string;
let sourceDir: string;
let fixture: Map<string, Buffer>;
const openStores: S3ObjectStore[] = [];
let runs = 0;

/** A fresh prefix of the bucket per call: tests do not see each other's objects. */
function bucketStore(prefix = `run-${++runs}/`): S3ObjectStore {
  const store = new S3ObjectStore({
    bucket: BUCKET,
    prefix,
    endpoint: moto.server.endpoint,
    forcePathStyle: true,
    scratchDir: path.join(dir, 'scratch'),
    listPageSize: PAGE_SIZE,
  });
  openStores.push(store);
  return store;
}

function freshDirectory(): FsObjectStore {
  return new FsObjectStore(fs.mkdtempSync(path.join(dir, 'dest-')));
}

/** Nested keys the way the worker writes them (originals by day, variants by user and type), and one odd one. */
function writeFixture(root: string): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < OBJECT_COUNT - 1; i += 1) {
    const key =
      i % 3 === 0
        ? `bulk/2026-0${1 + (i % 2)}-1${i % 10}/${i}.jpg`
        : i % 3 === 1
          ? `library/user_${i % 7}/product/img/${i}_small.avif`
          : `library/user_${i % 7}/event/img/${i}_grid.webp`;
    objects.set(key, randomBytes(1 + ((i * 37) % 1500)));
  }
  objects.set('notes/a/b/c/readme.txt', Buffer.from('kept as it is\n'));
  for (const [key, bytes] of objects) {
    fs.mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
    fs.writeFileSync(path.join(root, key), bytes);
  }
  return objects;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every object of `store`, and only those, holds the fixture's bytes. */
async function expectFixture(store: ObjectStore, expected: Map<string, Buffer> = fixture): Promise<void> {
  const keys: string[] = [];
  for await (const object of store.list('')) keys.push(object.key);
  expect(keys.sort()).toEqual([...expected.keys()].sort());
  for (const [key, bytes] of expected) {
    const opened = await store.open(key);
    expect(opened, key).toBeDefined();
    expect((await readAll(opened!.stream)).equals(bytes), key).toBe(true);
  }
}

const fixtureBytes = () => [...fixture.values()].reduce((sum, bytes) => sum + bytes.length, 0);

beforeAll(async () => {
  if (!moto.available) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'copy-objects-'));
  sourceDir = path.join(dir, 'source');
  fixture = writeFixture(sourceDir);
  const store = bucketStore('');
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterEach(async () => {
  for (const store of openStores.splice(0)) await store.close();
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!moto.available)('copyObjects between a directory and moto_server', () => {
  it('copies a directory into a bucket (two list pages), with types and variant caching, then skips it all', async () => {
    const source = new FsObjectStore(sourceDir);
    const bucket = bucketStore();
    const report = await copyObjects(source, bucket, { concurrency: 8, destinationKeepsMetadata: true });
    expect(report).toMatchObject({
      objects: OBJECT_COUNT,
      copied: OBJECT_COUNT,
      replaced: 0,
      skipped: 0,
      failed: 0,
      vanished: 0,
      bytes: fixtureBytes(),
      interrupted: false,
      verify: 'sha256',
    });
    expect(OBJECT_COUNT).toBeGreaterThan(PAGE_SIZE);
    await expectFixture(bucket);

    const variant = await bucket.open('library/user_1/product/img/1_small.avif');
    expect([variant?.contentType, variant?.cacheControl]).toEqual(['image/avif', IMMUTABLE_CACHE_CONTROL]);
    variant?.stream.destroy();
    const original = await bucket.open('bulk/2026-01-10/0.jpg');
    expect([original?.contentType, original?.cacheControl]).toEqual(['image/jpeg', undefined]);
    original?.stream.destroy();
    const text = await bucket.open('notes/a/b/c/readme.txt');
    expect(text?.contentType).toBe('text/plain; charset=utf-8');
    text?.stream.destroy();

    const again = await copyObjects(source, bucket, { concurrency: 8, destinationKeepsMetadata: true });
    expect(again).toMatchObject({
      copied: 0,
      skipped: OBJECT_COUNT,
      failed: 0,
      skippedBytes: fixtureBytes(),
    });
  });

  it('copies a bucket back into a directory, leaving no temp files', async () => {
    const bucket = bucketStore();
    await copyObjects(new FsObjectStore(sourceDir), bucket, { concurrency: 8 });
    const destination = freshDirectory();
    const report = await copyObjects(bucket, destination, { concurrency: 8 });
    expect(report).toMatchObject({ objects: OBJECT_COUNT, copied: OBJECT_COUNT, failed: 0 });
    await expectFixture(destination);
    const names = fs.readdirSync(destination.root, { recursive: true }) as string[];
    expect(names.filter((name) => path.basename(name).startsWith('.tmp-'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'scratch'))).toEqual([]);
  });

  it('resumes an interrupted run: the second run copies only what the first did not', async () => {
    const source = new FsObjectStore(sourceDir);
    const bucket = bucketStore();
    const copiedBy = (outcomes: ObjectOutcome[]) =>
      outcomes.filter((o) => o.action === 'copied').map((o) => o.key);
    const first: ObjectOutcome[] = [];
    const controller = new AbortController();
    const partial = await copyObjects(source, bucket, {
      concurrency: 4,
      signal: controller.signal,
      onObject: (outcome, done) => {
        first.push(outcome);
        if (done === 150) controller.abort();
      },
    });
    expect(partial.interrupted).toBe(true);
    expect(partial.copied).toBeGreaterThanOrEqual(150);
    expect(partial.copied).toBeLessThan(OBJECT_COUNT);

    const second: ObjectOutcome[] = [];
    const rest = await copyObjects(source, bucket, { concurrency: 4, onObject: (o) => second.push(o) });
    expect(rest).toMatchObject({ interrupted: false, failed: 0, skipped: partial.copied });
    expect(partial.copied + rest.copied).toBe(OBJECT_COUNT);
    expect(partial.bytes + rest.bytes).toBe(fixtureBytes());
    const twice = copiedBy(second).filter((key) => copiedBy(first).includes(key));
    expect(twice).toEqual([]);
    await expectFixture(bucket);
  });

  it('replaces destination objects that differ (same size other bytes, other size, other Cache-Control), and says why', async () => {
    const source = new FsObjectStore(sourceDir);
    const bucket = bucketStore();
    await copyObjects(source, bucket, { concurrency: 8, destinationKeepsMetadata: true });
    const sameSize = 'bulk/2026-01-10/0.jpg';
    const otherSize = 'library/user_1/product/img/1_small.avif';
    const noCaching = 'library/user_2/event/img/2_grid.webp';
    await bucket.put(sameSize, randomBytes(fixture.get(sameSize)!.length));
    await bucket.put(otherSize, Buffer.concat([fixture.get(otherSize)!, Buffer.from('x')]), {
      cacheControl: IMMUTABLE_CACHE_CONTROL,
    });
    await bucket.put(noCaching, fixture.get(noCaching)!);

    const outcomes: ObjectOutcome[] = [];
    const report = await copyObjects(source, bucket, {
      destinationKeepsMetadata: true,
      onObject: (outcome) => outcomes.push(outcome),
    });
    expect(report).toMatchObject({ copied: 3, replaced: 3, skipped: OBJECT_COUNT - 3, failed: 0 });
    const reasons = Object.fromEntries(
      outcomes.filter((o) => o.action === 'replaced').map((o) => [o.key, o.reason]),
    );
    expect(reasons).toEqual({
      [sameSize]: 'sha256 differs',
      [otherSize]: `size ${fixture.get(otherSize)!.length + 1} at the destination, ${fixture.get(otherSize)!.length} at the source`,
      [noCaching]: 'Cache-Control (none)',
    });
    await expectFixture(bucket);
    const fixed = await bucket.open(noCaching);
    expect(fixed?.cacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
    fixed?.stream.destroy();
  });

  it('with sizeOnly, skips on equal size without reading (and so misses a same-size difference)', async () => {
    const source = new FsObjectStore(sourceDir);
    const destination = freshDirectory();
    await copyObjects(source, destination, { concurrency: 8 });
    const [sameSize, otherSize] = [...fixture.keys()].filter((key) => key.startsWith('bulk/'));
    fs.writeFileSync(path.join(destination.root, sameSize!), randomBytes(fixture.get(sameSize!)!.length));
    fs.writeFileSync(path.join(destination.root, otherSize!), 'short');
    const report = await copyObjects(source, destination, { sizeOnly: true });
    expect(report).toMatchObject({ verify: 'size-only', copied: 1, replaced: 1, skipped: OBJECT_COUNT - 1 });
    expect(fs.readFileSync(path.join(destination.root, otherSize!)).equals(fixture.get(otherSize!)!)).toBe(
      true,
    );
    const full = await copyObjects(source, destination, {});
    expect(full).toMatchObject({ verify: 'sha256', copied: 1, replaced: 1 });
    await expectFixture(destination);
  });

  it('counts an object whose read-back differs from what was sent as failed, and a re-run repairs it', async () => {
    const source = new FsObjectStore(sourceDir);
    const flipped = 'library/user_1/product/img/1_small.avif';
    const grown = 'bulk/2026-01-10/0.jpg';
    // A real directory whose disk changes bytes under a file right after it is written.
    class DamagingDisk extends FsObjectStore {
      override async put(key: string, bytes: Readable | Buffer, options?: PutOptions): Promise<number> {
        const stored = await super.put(key, bytes, options);
        const file = path.join(this.root, key);
        if (key === flipped) {
          const content = fs.readFileSync(file);
          content[0] = content[0]! ^ 0xff;
          fs.writeFileSync(file, content);
        }
        if (key === grown) fs.appendFileSync(file, 'x');
        return stored;
      }
    }
    const damaging = new DamagingDisk(fs.mkdtempSync(path.join(dir, 'damaging-')));
    const report = await copyObjects(source, damaging, { concurrency: 4 });
    expect(report).toMatchObject({ copied: OBJECT_COUNT - 2, failed: 2 });
    const failures = Object.fromEntries(report.failures.map((f) => [f.key, f.error]));
    expect(failures[flipped]).toMatch(
      /^verification failed: sha256 [0-9a-f]{64} read back, [0-9a-f]{64} sent/,
    );
    expect(failures[grown]).toMatch(/^verification failed: sent \d+ bytes, .* reads back \d+/);

    const repaired = await copyObjects(source, new FsObjectStore(damaging.root), {});
    expect(repaired).toMatchObject({ copied: 2, replaced: 2, failed: 0, skipped: OBJECT_COUNT - 2 });
    await expectFixture(new FsObjectStore(damaging.root));
  });

  it('a dry run reads both sides, reports the plan, and changes nothing', async () => {
    const source = new FsObjectStore(sourceDir);
    const bucket = bucketStore();
    const differing = 'notes/a/b/c/readme.txt';
    await bucket.put('bulk/2026-01-10/0.jpg', fixture.get('bulk/2026-01-10/0.jpg')!);
    await bucket.put(differing, Buffer.from('kept as it IS\n'));
    const report = await copyObjects(source, bucket, { dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      copied: OBJECT_COUNT - 1,
      replaced: 1,
      skipped: 1,
      failed: 0,
    });
    const plan = report.plan ?? [];
    expect(plan).toHaveLength(OBJECT_COUNT);
    expect(plan.find((o) => o.key === differing)).toEqual({
      key: differing,
      action: 'replaced',
      bytes: fixture.get(differing)!.length,
      reason: 'sha256 differs',
    });
    const keys: string[] = [];
    for await (const object of bucket.list('')) keys.push(object.key);
    expect(keys.sort()).toEqual([differing, 'bulk/2026-01-10/0.jpg'].sort());
    const kept = await bucket.open(differing);
    expect((await readAll(kept!.stream)).toString()).toBe('kept as it IS\n');

    const nowhere = path.join(dir, 'not-created');
    const toDirectory = await copyObjects(source, new FsObjectStore(nowhere), { dryRun: true });
    expect(toDirectory).toMatchObject({ copied: OBJECT_COUNT, skipped: 0 });
    expect(fs.existsSync(nowhere)).toBe(false);
  });

  it('counts an object deleted at the source after the listing as vanished, not failed', async () => {
    const sourceRoot = fs.mkdtempSync(path.join(dir, 'shrinking-'));
    const small = new Map([...fixture].slice(0, 20));
    for (const [key, bytes] of small) {
      fs.mkdirSync(path.dirname(path.join(sourceRoot, key)), { recursive: true });
      fs.writeFileSync(path.join(sourceRoot, key), bytes);
    }
    const [gone] = [...small.keys()];
    const destination = freshDirectory();
    const report = await copyObjects(new FsObjectStore(sourceRoot), destination, {
      onListed: () => fs.rmSync(path.join(sourceRoot, gone!)),
    });
    expect(report).toMatchObject({ objects: 20, copied: 19, vanished: 1, failed: 0 });
    small.delete(gone!);
    await expectFixture(destination, small);
  });
});
