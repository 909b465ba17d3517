/**
 * POST /api/media on 127.0.0.1 with the real samples: forms and raw bodies
 * through the real pipeline to completed (callback skipped), a cut PNG to
 * failed, Idempotency-Key repeats, conflicts and races (SQLite and MariaDB),
 * the streaming size cap (with and without Content-Length), sniffed types,
 * every field's 400, 401, 429 over the concurrency limit, and
 * `cleanup --orphans` (the built CLI) on incoming/ objects.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { ItemView } from '../../src/db/item-view.js';
import { createServer } from '../../src/http/server.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { objectStoreFor } from '../../src/storage/object-store-for.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import * as fixtures from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { useMotoServer } from '../helpers/moto-server.js';
import { withPipeline } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';
import { serverStorage, TEST_SUBMIT, testServerOptions } from '../helpers/server-storage.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const moto = useMotoServer();
const KEY = 'media-api-key-0123456789';
const OPS_KEY = 'ops-admin-key-0123456789';
const MAX_BYTES = 1_000_000;
const CONCURRENCY = 3;
const SAMPLES = fs.readdirSync(path.dirname(fixtures.SAMPLE('x'))).sort();
const sample = (name: string) => fs.readFileSync(fixtures.SAMPLE(name));

/** An ISO-BMFF header with the heic brand, as an iPhone writes it. */
const HEIC = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from('ftypheic\0\0\0\0mif1heic'),
  Buffer.alloc(200),
]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>');
const TEXT = Buffer.from('just some notes, not a picture at all, long enough to sniff\n'.repeat(4));

interface Suite {
  t: TestDatabase;
  dir: string;
  storage: FsObjectStore;
  config: Config;
  server: FastifyInstance;
  base: string;
}

async function startSuite(dialect: 'sqlite' | 'mysql'): Promise<Suite> {
  const t = await createTestDatabase(dialect);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-submit-'));
  const config = loadConfig({ DATABASE_URL: t.url, STORAGE_DIR: path.join(dir, 'storage') });
  const storage = new FsObjectStore(config.storageDir);
  const server = createServer(
    testServerOptions(t.db, {
      ...serverStorage(storage),
      mediaApiKey: KEY,
      adminKeys: [{ name: 'ops', key: OPS_KEY }],
      submit: { ...TEST_SUBMIT, store: storage, maxUploadBytes: MAX_BYTES, uploadConcurrency: CONCURRENCY },
    }),
  );
  const base = await server.listen({ host: '127.0.0.1', port: 0 });
  return { t, dir, storage, config, server, base };
}

async function stopSuite(suite: Suite | undefined): Promise<void> {
  await suite?.server.close();
  await suite?.t.drop();
  if (suite) fs.rmSync(suite.dir, { recursive: true, force: true });
}

type Fields = Array<[string, string]>;
const OWNER: Fields = [
  ['user_id', '7'],
  ['role', 'product'],
];

function form(fields: Fields, file?: { bytes: Buffer; name?: string; field?: string }, after: Fields = []) {
  const body = new FormData();
  for (const [name, value] of fields) body.append(name, value);
  if (file) body.append(file.field ?? 'file', new Blob([file.bytes]), file.name ?? 'upload.bin');
  for (const [name, value] of after) body.append(name, value);
  return body;
}

/** A form with the owner's fields and the same image twice in parts named file. */
function twoFiles(bytes: Buffer): FormData {
  const body = form(OWNER, { bytes });
  body.append('file', new Blob([bytes]), 'second.png');
  return body;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(
  base: string,
  body: FormData | Buffer,
  options: { query?: string; type?: string; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? KEY}`;
  if (options.type) headers['content-type'] = options.type;
  const response = await fetch(`${base}/api/media${options.query ?? ''}`, {
    method: 'POST',
    headers,
    body: body instanceof Buffer ? new Uint8Array(body) : body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer['body'],
  };
}

const postForm = (base: string, body: FormData, headers: Record<string, string> = {}) =>
  post(base, body, { headers });

/**
 * A request written chunk by chunk with node:http (fetch cannot leave out
 * Content-Length for a known body, nor hold a body open). Resolves with the
 * answer, even when the server stops reading and closes first.
 */
function streamRequest(
  base: string,
  options: { query?: string; headers: Record<string, string>; chunks: AsyncIterable<Buffer> | Buffer[] },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/api/media${options.query ?? ''}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, ...options.headers },
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) }),
      );
    });
    void (async () => {
      for await (const chunk of options.chunks) {
        if (request.destroyed) return;
        if (!request.write(chunk)) await new Promise((r) => request.once('drain', r));
      }
      request.end();
    })().catch(() => undefined);
  });
}

async function* slowChunks(total: number, hold?: Promise<void>): AsyncGenerator<Buffer> {
  const png = sample('cat-chelsea.png');
  yield png.subarray(0, 4096);
  await hold;
  let sent = 4096;
  while (sent < total) {
    const size = Math.min(64 * 1024, total - sent);
    yield Buffer.alloc(size, 1);
    sent += size;
  }
}

async function incomingObjects(storage: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list('incoming/')) keys.push(object.key);
  return keys.sort();
}

async function rowCount(t: TestDatabase): Promise<number> {
  const row = (await t.db('media_files').count({ n: '*' }).first()) as { n: unknown };
  return Number(row.n);
}

describe('POST /api/media', () => {
  let s: Suite;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    s = await startSuite('sqlite');
  });
  afterAll(() => stopSuite(s));

  const view = async (id: number) => {
    const response = await fetch(`${s.base}/api/media/${id}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ItemView;
  };

  it('takes every sample as a form, and one raw body, and answers 202 once the bytes are stored', async () => {
    for (const name of SAMPLES) {
      const answer = await postForm(s.base, form(OWNER, { bytes: sample(name), name }));
      expect(answer.status, name).toBe(202);
      const id = answer.body.media_id as number;
      expect(answer.body).toEqual({
        media_id: id,
        status: 'pending',
        status_url: `/api/media/${id}`,
        serve_url: `/serve/${id}`,
      });
      expect(answer.headers.get('location')).toBe(`/api/media/${id}`);
      ids[name] = id;
    }
    const raw = await post(s.base, sample('market-street-sign.jpg'), {
      query: '?user_id=9&role=event&is_test_data=true&original_name=sign.jpg',
      type: 'image/jpeg',
    });
    expect(raw.status).toBe(202);
    ids.raw = raw.body.media_id as number;
    const cut = await post(s.base, fixtures.truncated(sample('cat-chelsea.png')), {
      query: '?user_id=9&role=product',
      type: 'application/octet-stream',
    });
    expect(cut.status).toBe(202);
    ids.cut = cut.body.media_id as number;
    // The file first and the fields after it, as `curl -F file=@… -F user_id=…` sends them.
    const fileFirst = await postForm(
      s.base,
      form([], { bytes: sample('coffee-cup.png') }, [...OWNER, ['is_test_data', 'true']]),
    );
    expect(fileFirst.status).toBe(202);
    ids.fileFirst = fileFirst.body.media_id as number;
    const fileFirstRow = (await s.t.db('media_files').where({ id: ids.fileFirst }).first()) as Record<
      string,
      unknown
    >;
    expect(fileFirstRow).toMatchObject({ user_id: 7, role: 'product', original_name: 'upload.bin' });
    expect(Boolean(fileFirstRow.is_test_data)).toBe(true);

    // Durable before the answer: the row points at a stored incoming/ object holding exactly the bytes.
    const row = (await s.t.db('media_files').where({ id: ids.raw }).first()) as Record<string, unknown>;
    expect(row).toMatchObject({ source: 'http', user_id: 9, role: 'event', data_type: 'event' });
    expect(row.original_name).toBe('sign.jpg');
    expect(row.declared_mime_type).toBe('image/jpeg');
    expect(Boolean(row.is_test_data)).toBe(true);
    expect(row.expires_at).toBeGreaterThan(Date.now());
    expect(row.source_path).toMatch(/^incoming\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}\.jpg$/);
    expect(fs.readFileSync(path.join(s.storage.root, row.source_path as string))).toEqual(
      sample('market-street-sign.jpg'),
    );
    const formRow = (await s.t.db('media_files').where({ id: ids['coffee-cup.png'] }).first()) as {
      original_name: string;
    };
    expect(formRow.original_name).toBe('coffee-cup.png');
    expect(await incomingObjects(s.storage)).toHaveLength(SAMPLES.length + 3);
  });

  it('processes them like any upload: completed, served, the callback skipped; a cut PNG fails', async () => {
    await withPipeline(s.config, s.t.db, s.storage, (steps) => makeWorker(s.t.db, steps).run());
    for (const key of [...SAMPLES, 'raw', 'fileFirst']) {
      const body = await view(ids[key]!);
      expect(body.status, key).toBe('completed');
      expect(body.steps.map((step) => [step.name, step.status])).toEqual([
        ['retrieve', 'completed'],
        ['analyse', 'completed'],
        ['resize', 'completed'],
        ['callback', 'skipped'],
      ]);
      expect(body.variants.length).toBeGreaterThanOrEqual(12);
      const served = await fetch(`${s.base}${body.links.serve}`);
      expect(served.status, key).toBe(200);
      await served.arrayBuffer();
    }
    const skipped = (await s.t
      .db('processing_events')
      .where({ media_id: ids.raw, step: 'callback', event: 'skipped' })
      .first()) as { message: string };
    expect(skipped.message).toBe('HTTP upload: no main API upload to report');
    const failed = await view(ids.cut!);
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ step: 'analyse', error_class: 'INVALID_INPUT' });
    expect(failed.failure!.message).toMatch(/corrupt, truncated or unsupported/);
  });

  it('cleanup --orphans removes incoming/ objects no pending upload needs, after the grace period', async () => {
    const pending = await postForm(s.base, form(OWNER, { bytes: sample('coffee-cup.png') }));
    expect(pending.status).toBe(202);
    const pendingKey = (
      (await s.t.db('media_files').where({ id: pending.body.media_id }).first()) as { source_path: string }
    ).source_path;
    const orphan = 'incoming/2026-01-01/00000000-0000-4000-8000-000000000000.png';
    const young = 'incoming/2026-01-01/11111111-1111-4111-8111-111111111111.png';
    await s.storage.put(orphan, sample('street-sign-text.png'));
    await s.storage.put(young, sample('street-sign-text.png'));
    const before = await incomingObjects(s.storage);
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const key of before.filter((k) => k !== young))
      fs.utimesSync(path.join(s.storage.root, key), twoHoursAgo, twoHoursAgo);

    const run = await runCli(['cleanup', '--orphans', '--json'], {
      DATABASE_URL: s.t.url,
      STORAGE_DIR: s.storage.root,
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { orphanFiles: string[] };
    const after = await incomingObjects(s.storage);
    // Kept: the upload not yet retrieved, and the object too young to judge. The cut PNG's retrieve
    // completed too (analyse failed it), so its bulk/ original stands in for it.
    expect(after).toEqual([pendingKey, young].sort());
    expect(report.orphanFiles.filter((key) => key.startsWith('incoming/')).sort()).toEqual(
      before.filter((key) => key !== pendingKey && key !== young).sort(),
    );
    // The processed items keep their originals in bulk/ and stay served.
    expect((await view(ids['cat-chelsea.png']!)).status).toBe('completed');
  });

  it('a retrieve run again after cleanup removed the incoming object reads the bulk/ original', async () => {
    const id = ids['cat-chelsea.png']!;
    const row = (await s.t.db('media_files').where({ id }).first()) as {
      source_path: string;
      sha256: string;
    };
    expect(await s.storage.open(row.source_path)).toBeUndefined(); // removed by the cleanup above
    const requeued = await runCli(['requeue', String(id), '--step', 'retrieve', '--json'], {
      DATABASE_URL: s.t.url,
      STORAGE_DIR: s.storage.root,
    });
    expect(requeued.code, requeued.stderr).toBe(0);
    await withPipeline(s.config, s.t.db, s.storage, (steps) => makeWorker(s.t.db, steps).run());
    const again = await view(id);
    expect(again.status).toBe('completed');
    const retrieved = await s.t
      .db('processing_events')
      .where({ media_id: id, step: 'retrieve', event: 'completed' })
      .count({ n: '*' });
    expect(Number(retrieved[0]!.n)).toBe(2);
    const after = (await s.t.db('media_files').where({ id }).first()) as { sha256: string };
    expect(after.sha256).toBe(row.sha256);
  });

  it('refuses a body over MAX_UPLOAD_BYTES while streaming: 413, with or without Content-Length', async () => {
    const rowsBefore = await rowCount(s.t);
    const objectsBefore = await incomingObjects(s.storage);
    const big = MAX_BYTES + 100_000;
    const chunked = await streamRequest(s.base, {
      query: '?user_id=1&role=product',
      headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
      chunks: slowChunks(big),
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body).toMatchObject({ error: 'payload_too_large', field: 'file' });
    expect(chunked.body.message).toMatch(/MAX_UPLOAD_BYTES=1000000/);
    const declared = await streamRequest(s.base, {
      query: '?user_id=1&role=product',
      headers: { 'content-type': 'image/png', 'content-length': String(big) },
      chunks: slowChunks(big),
    });
    expect(declared.status).toBe(413);
    // A form just over the cap: within the form's allowance for Content-Length, so the cap itself stops it.
    const png = sample('cat-chelsea.png');
    const overByTen = Buffer.concat([png, Buffer.alloc(MAX_BYTES + 10 - png.length)]);
    const formOver = await postForm(s.base, form(OWNER, { bytes: overByTen }));
    expect(formOver.status).toBe(413);
    expect(formOver.body).toMatchObject({ error: 'payload_too_large', field: 'file' });
    expect(formOver.body.message).toMatch(/refused after 1000001 bytes/);
    const formDeclared = await postForm(
      s.base,
      form(OWNER, { bytes: Buffer.concat([png, Buffer.alloc(MAX_BYTES)]) }),
    );
    expect(formDeclared.status).toBe(413);
    // Exactly at the cap is accepted (a PNG padded with trailing bytes: its header still reads).
    const atCap = await post(s.base, Buffer.concat([png, Buffer.alloc(MAX_BYTES - png.length)]), {
      query: '?user_id=1&role=product',
      type: 'image/png',
    });
    expect(atCap.status).toBe(202);
    expect(await rowCount(s.t)).toBe(rowsBefore + 1);
    expect((await incomingObjects(s.storage)).length).toBe(objectsBefore.length + 1);
  });

  it('sniffs the type before storing anything: 415 for text, SVG and HEIC, whatever the Content-Type', async () => {
    const rowsBefore = await rowCount(s.t);
    const objectsBefore = await incomingObjects(s.storage);
    const cases: Array<[string, Promise<Answer>, RegExp]> = [
      ['text as a form', postForm(s.base, form(OWNER, { bytes: TEXT, name: 'a.png' })), /not an image/],
      ['SVG as a form', postForm(s.base, form(OWNER, { bytes: SVG, name: 'a.svg' })), /SVG is not accepted/],
      ['HEIC as a form', postForm(s.base, form(OWNER, { bytes: HEIC, name: 'a.heic' })), /heic/],
      ['text raw', post(s.base, TEXT, { query: '?user_id=1&role=logo', type: 'image/png' }), /not an image/],
      ['SVG raw', post(s.base, SVG, { query: '?user_id=1&role=logo', type: 'image/svg+xml' }), /SVG/],
      ['HEIC raw', post(s.base, HEIC, { query: '?user_id=1&role=logo', type: 'image/heic' }), /heic/],
      [
        'a text/plain body',
        post(s.base, sample('cat-chelsea.png'), { query: '?user_id=1&role=logo', type: 'text/plain' }),
        /Content-Type text\/plain is not accepted/,
      ],
      [
        'a JSON body',
        post(s.base, Buffer.from('{"user_id":1}'), {
          query: '?user_id=1&role=logo',
          type: 'application/json',
        }),
        /Content-Type application\/json/,
      ],
    ];
    for (const [name, answer, message] of cases) {
      const { status, body } = await answer;
      expect(status, name).toBe(415);
      expect(body, name).toMatchObject({
        error: 'unsupported_media_type',
        message: expect.stringMatching(message),
      });
    }
    expect(await rowCount(s.t)).toBe(rowsBefore);
    expect(await incomingObjects(s.storage)).toEqual(objectsBefore);
  });

  it('400 naming the field for every wrong one, and nothing stored', async () => {
    const rowsBefore = await rowCount(s.t);
    const objectsBefore = await incomingObjects(s.storage);
    const png = { bytes: sample('street-sign-text.png') };
    const raw = (query: string) => post(s.base, png.bytes, { query, type: 'image/png' });
    const cases: Array<[string, () => Promise<Answer>, string, RegExp]> = [
      ['no user_id', () => postForm(s.base, form([['role', 'logo']], png)), 'user_id', /user_id is required/],
      [
        'a bad user_id after the file',
        () => postForm(s.base, form([['role', 'logo']], png, [['user_id', '0']])),
        'user_id',
        /positive integer/,
      ],
      [
        'bad user_id',
        () =>
          postForm(
            s.base,
            form(
              [
                ['user_id', 'abc'],
                ['role', 'logo'],
              ],
              png,
            ),
          ),
        'user_id',
        /positive integer/,
      ],
      ['no role', () => raw('?user_id=1'), 'role', /role is required/],
      ['bad role', () => raw('?user_id=1&role=avatar'), 'role', /role must be one of profile, header/],
      [
        'bad is_test_data',
        () => raw('?user_id=1&role=logo&is_test_data=yes'),
        'is_test_data',
        /true or false/,
      ],
      ['user_id twice', () => raw('?user_id=1&user_id=2&role=logo'), 'user_id', /once/],
      ['an unknown field', () => raw('?user_id=1&role=logo&colour=red'), 'colour', /unknown field "colour"/],
      [
        'a long original_name',
        () => raw(`?user_id=1&role=logo&original_name=${'a'.repeat(256)}`),
        'original_name',
        /at most 255/,
      ],
      [
        'a bad field after the file',
        () => postForm(s.base, form(OWNER, png, [['is_test_data', 'maybe']])),
        'is_test_data',
        /true or false/,
      ],
      ['a second file', () => postForm(s.base, twoFiles(png.bytes)), 'file', /only one file/],
      ['no file', () => postForm(s.base, form(OWNER)), 'file', /file is required/],
      [
        'the file under another name',
        () => postForm(s.base, form(OWNER, { ...png, field: 'image' })),
        'image',
        /field named file/,
      ],
      ['an empty file', () => postForm(s.base, form(OWNER, { bytes: Buffer.alloc(0) })), 'file', /empty/],
      [
        'an empty raw body',
        () => post(s.base, Buffer.alloc(0), { query: '?user_id=1&role=logo', type: 'image/png' }),
        'file',
        /empty/,
      ],
      [
        'a non-ASCII Idempotency-Key',
        () =>
          post(s.base, png.bytes, {
            query: '?user_id=1&role=logo',
            type: 'image/png',
            headers: { 'idempotency-key': 'clé\u00e9' },
          }),
        'Idempotency-Key',
        /printable ASCII/,
      ],
      [
        'a long Idempotency-Key',
        () => postForm(s.base, form(OWNER, png), { 'idempotency-key': 'k'.repeat(201) }),
        'Idempotency-Key',
        /at most 200/,
      ],
    ];
    // One at a time: at once, they would pass API_UPLOAD_CONCURRENCY and some be answered 429.
    for (const [name, answer, field, message] of cases) {
      const { status, body } = await answer();
      expect(status, name).toBe(400);
      expect(body, name).toEqual({ error: 'bad_request', message: expect.stringMatching(message), field });
    }
    expect(await rowCount(s.t)).toBe(rowsBefore);
    expect(await incomingObjects(s.storage)).toEqual(objectsBefore);
  });

  it('401 without a valid key, before any byte is stored', async () => {
    const objectsBefore = await incomingObjects(s.storage);
    for (const key of [null, 'wrong-key']) {
      const answer = await post(s.base, sample('cat-chelsea.png'), {
        query: '?user_id=1&role=logo',
        type: 'image/png',
        key,
      });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(answer.body).toMatchObject({ error: 'unauthorized' });
    }
    expect(await incomingObjects(s.storage)).toEqual(objectsBefore);
  });

  it(`429 with Retry-After for upload ${CONCURRENCY + 1} of one key at once; other keys and later uploads pass`, async () => {
    let letGo!: () => void;
    const hold = new Promise<void>((resolve) => (letGo = resolve));
    const held = Array.from({ length: CONCURRENCY }, () =>
      streamRequest(s.base, {
        query: '?user_id=1&role=product',
        headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
        chunks: slowChunks(200_000, hold),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const over = await post(s.base, sample('cat-chelsea.png'), {
      query: '?user_id=1&role=product',
      type: 'image/png',
    });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(over.body).toMatchObject({
      error: 'rate_limited',
      message: expect.stringMatching(/API_UPLOAD_CONCURRENCY=3/),
    });
    const otherKey = await post(s.base, sample('cat-chelsea.png'), {
      query: '?user_id=1&role=product',
      type: 'image/png',
      key: OPS_KEY,
    });
    expect(otherKey.status).toBe(202);
    letGo();
    // The held bodies are a PNG head followed by filler: stored and registered (retrieve would fail them).
    for (const answer of await Promise.all(held)) expect(answer.status).toBe(202);
    const after = await post(s.base, sample('cat-chelsea.png'), {
      query: '?user_id=1&role=product',
      type: 'image/png',
    });
    expect(after.status).toBe(202);
  });
});

describe.each(availableDialects())('POST /api/media with an Idempotency-Key on %s', (dialect) => {
  let s: Suite;

  beforeAll(async () => {
    s = await startSuite(dialect);
  });
  afterAll(() => stopSuite(s));

  const withKey = (key: string, bytes: Buffer, apiKey = KEY) =>
    post(s.base, bytes, {
      query: '?user_id=4&role=profile',
      type: 'image/png',
      key: apiKey,
      headers: { 'idempotency-key': key },
    });

  it('the same key and bytes: 200 with the same item, no second row or object; other bytes: 409', async () => {
    const first = await withKey('upload-1', sample('cat-chelsea.png'));
    expect(first.status).toBe(202);
    const rows = await rowCount(s.t);
    const objects = await incomingObjects(s.storage);
    const again = await postForm(
      s.base,
      form(
        [
          ['user_id', '4'],
          ['role', 'profile'],
        ],
        { bytes: sample('cat-chelsea.png') },
      ),
      {
        'idempotency-key': 'upload-1',
      },
    );
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, status: 'pending' });
    const other = await withKey('upload-1', sample('coffee-cup.png'));
    expect(other.status).toBe(409);
    expect(other.body).toEqual({
      error: 'conflict',
      message: expect.stringMatching(new RegExp(`other bytes \\(media ${String(first.body.media_id)}\\)`)),
      field: 'Idempotency-Key',
    });
    expect(await rowCount(s.t)).toBe(rows);
    expect(await incomingObjects(s.storage)).toEqual(objects);
    // Keys are scoped per API key: another caller's "upload-1" is its own.
    const ops = await withKey('upload-1', sample('coffee-cup.png'), OPS_KEY);
    expect(ops.status).toBe(202);
    expect(ops.body.media_id).not.toBe(first.body.media_id);
  });

  it('keys differing only in case are different keys: two uploads, two items', async () => {
    const upper = await withKey('Case-Key-1', sample('street-sign-text.png'));
    const lower = await withKey('case-key-1', sample('street-sign-text.png'));
    expect(upper.status, JSON.stringify(upper.body)).toBe(202);
    expect(lower.status, JSON.stringify(lower.body)).toBe(202);
    expect(lower.body.media_id).not.toBe(upper.body.media_id);
    // Each still repeats exactly: the same key and bytes again is its own item.
    const again = await withKey('case-key-1', sample('street-sign-text.png'));
    expect(again).toMatchObject({ status: 200, body: { media_id: lower.body.media_id } });
  });

  it('the same key and bytes with another user_id, role or is_test_data: 409 naming the field, nothing made', async () => {
    const first = await withKey('fields-1', sample('coffee-cup.png'));
    expect(first.status).toBe(202);
    const rows = await rowCount(s.t);
    const objects = await incomingObjects(s.storage);
    const cases: Array<[string, string]> = [
      ['?user_id=5&role=profile', 'user_id (it had user_id 4)'],
      ['?user_id=4&role=product', 'role (it had role profile)'],
      ['?user_id=4&role=profile&is_test_data=true', 'is_test_data (it had is_test_data false)'],
    ];
    for (const [query, differs] of cases) {
      const other = await post(s.base, sample('coffee-cup.png'), {
        query,
        type: 'image/png',
        headers: { 'idempotency-key': 'fields-1' },
      });
      expect(other.status, query).toBe(409);
      expect(other.body).toEqual({
        error: 'conflict',
        message: `Idempotency-Key "fields-1" was used for the same bytes with another ${differs} (media ${String(first.body.media_id)}); use a new key for a new upload`,
        field: 'Idempotency-Key',
      });
    }
    expect(await rowCount(s.t)).toBe(rows);
    expect(await incomingObjects(s.storage)).toEqual(objects);
  });

  it('requests racing with one key make exactly one item', async () => {
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => withKey('race-1', sample('hubble-deep-field.jpg'))),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 202].slice(0, CONCURRENCY).sort());
    expect(new Set(answers.map((a) => a.body.media_id)).size).toBe(1);
    const rows = (await s.t
      .db('media_files')
      .where({ idempotency_key: 'race-1' })
      .select('source_path')) as Array<{ source_path: string }>;
    expect(rows).toHaveLength(1);
    // Only the winner's bytes are kept.
    const objects = await incomingObjects(s.storage);
    expect(objects.filter((key) => key.endsWith('.jpg'))).toEqual([rows[0]!.source_path]);
  });
});

describe.skipIf(!moto.available)('POST /api/media with the store on an S3 bucket (moto)', () => {
  let t: TestDatabase;
  let dir: string;
  let config: Config;
  let store: ObjectStore;
  let server: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-submit-s3-'));
    const bucket = `media-submit-${Math.random().toString(36).slice(2, 8)}`;
    config = loadConfig({
      DATABASE_URL: t.url,
      SCRATCH_DIR: path.join(dir, 'scratch'),
      SERVE_CACHE_DIR: path.join(dir, 'serve-cache'),
      STORAGE_URL: `s3://${bucket}/media`,
      S3_ENDPOINT: moto.server.endpoint,
    });
    store = objectStoreFor(config);
    await (store as S3ObjectStore).client.send(new CreateBucketCommand({ Bucket: bucket }));
    server = createServer(testServerOptions(t.db, { ...serverStorage(store, dir), mediaApiKey: KEY }));
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await t?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores the upload in the bucket before the 202, and it goes through to completed', async () => {
    const answer = await postForm(
      base,
      form(OWNER, { bytes: sample('hubble-deep-field.jpg'), name: 'deep.jpg' }),
    );
    expect(answer.status).toBe(202);
    const id = answer.body.media_id as number;
    const [key] = await incomingObjects(store);
    expect(key).toMatch(/^incoming\/.+\.jpg$/);
    const opened = await store.open(key!);
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(sample('hubble-deep-field.jpg'));
    await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    const response = await fetch(`${base}/api/media/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
    const view = (await response.json()) as ItemView;
    expect(view.status).toBe('completed');
    expect(view.steps.find((step) => step.name === 'callback')?.status).toBe('skipped');
    const served = await fetch(`${base}${view.links.serve}`);
    expect(served.status).toBe(200);
    await served.arrayBuffer();
  });
});
