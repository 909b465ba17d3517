/**
 * The API's guards on 127.0.0.1: scopes (a media key on an admin route is
 * 403, no key or a wrong one 401, and no configured key answers nobody), the
 * rate limit per key (429 + Retry-After, other keys unaffected), and the
 * promise that a caller without a key costs no more than its 401: the answer
 * comes before the body is sent, and nothing is stored; and the size limits
 * (headers 16 KiB: 431; a JSON body 64 KiB: 413 in the API's error shape).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { serverStorage, testServerOptions } from '../helpers/server-storage.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const MEDIA_KEY = 'media-api-key-0123456789';
const ADMIN_KEY = 'admin-key-of-alice-0123456789';
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('API keys, scopes and limits', () => {
  let t: TestDatabase;
  let dir: string;
  let options: ServerOptions;

  /** Each test's own server, closed before the test ends (the leak check runs per test). */
  async function withServer(extra: Partial<ServerOptions>, use: (base: string) => Promise<void>) {
    const server: FastifyInstance = createServer({ ...options, ...extra });
    try {
      await use(await server.listen({ host: '127.0.0.1', port: 0 }));
    } finally {
      await server.close();
    }
  }

  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-limits-'));
    options = testServerOptions(t.db, {
      ...serverStorage(new FsObjectStore(path.join(dir, 'storage'))),
      mediaApiKey: MEDIA_KEY,
      adminKeys: [{ name: 'alice', key: ADMIN_KEY }],
    });
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 401 without a key or with a wrong one, 403 for a key without the scope', () =>
    withServer({}, async (base) => {
      const none = await fetch(`${base}/api/admin/stats`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(await none.json()).toMatchObject({ error: 'unauthorized' });
      const wrong = await fetch(`${base}/api/admin/stats`, { headers: bearer(`${ADMIN_KEY}x`) });
      expect(wrong.status).toBe(401);
      const media = await fetch(`${base}/api/admin/stats`, { headers: bearer(MEDIA_KEY) });
      expect(media.status).toBe(403);
      // Reads need the read scope (admin and read-only keys hold it), actions the admin scope.
      expect(await media.json()).toEqual({
        error: 'forbidden',
        message: 'the key "platform" does not have the read scope',
      });
      const action = await fetch(`${base}/api/admin/pause`, {
        method: 'POST',
        headers: { ...bearer(MEDIA_KEY), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(action.status).toBe(403);
      expect(await action.json()).toEqual({
        error: 'forbidden',
        message: 'the key "platform" does not have the admin scope',
      });
      const admin = await fetch(`${base}/api/admin/stats`, { headers: bearer(ADMIN_KEY) });
      expect(admin.status).toBe(200);
      // An admin key holds the media scope too.
      const list = await fetch(`${base}/api/media`, { headers: bearer(ADMIN_KEY) });
      expect(list.status).toBe(200);
    }));

  it('says so when no configured key holds the scope', () =>
    withServer({ adminKeys: [] }, async (base) => {
      const anonymous = await fetch(`${base}/api/admin/stats`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { message: string }).message).toMatch(
        /no ADMIN_API_KEYS or READONLY_API_KEYS configured: the admin API answers nobody/,
      );
      expect((await fetch(`${base}/api/admin/stats`, { headers: bearer(MEDIA_KEY) })).status).toBe(403);
    }));

  it('limits requests per key with 429 and Retry-After, each key on its own budget', () =>
    withServer({ apiRateLimit: 3 }, async (base) => {
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await fetch(`${base}/api/media`, { headers: bearer(MEDIA_KEY) })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await fetch(`${base}/api/media`, { headers: bearer(MEDIA_KEY) });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
      expect((await fetch(`${base}/api/media`, { headers: bearer(ADMIN_KEY) })).status).toBe(200);
      // The probes and /serve are outside the API's limit.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }));

  it('answers an upload the store cannot take 503 with Retry-After, not a 500, and registers nothing', async () => {
    // A store whose directory cannot be made (its parent is a file): every put fails with ENOTDIR.
    fs.writeFileSync(path.join(dir, 'not-a-directory'), '');
    const broken = new FsObjectStore(path.join(dir, 'not-a-directory', 'storage'));
    await withServer({ submit: { ...options.submit!, store: broken } }, async (base) => {
      const response = await fetch(`${base}/api/media?user_id=1&role=product`, {
        method: 'POST',
        headers: { ...bearer(MEDIA_KEY), 'Content-Type': 'image/png' },
        body: fs.readFileSync(SAMPLE('coffee-cup.png')),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({
        error: 'unavailable',
        message: 'storage or a service this needs did not answer; try again shortly',
      });
    });
    expect(await t.db('media_files').count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('answers an anonymous upload 401 before its body is sent, closes the connection, and stores nothing', () =>
    withServer({}, async (started) => {
      const base = new URL(started);
      // A raw socket, so nothing but the server can end the exchange: if the server drained the
      // announced 50 MiB instead of closing, this would wait for ever (and the test time out).
      const { status, closedBy } = await new Promise<{ status: number; closedBy: string }>(
        (resolve, reject) => {
          const socket = net.connect(Number(base.port), base.hostname);
          let answer = '';
          socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
          socket.on('end', () => resolve({ status: Number(answer.split(' ')[1]), closedBy: 'server' }));
          socket.on('error', reject);
          socket.write(
            'POST /api/media?user_id=1&role=product HTTP/1.1\r\n' +
              `Host: ${base.host}\r\nContent-Type: image/png\r\nContent-Length: ${50 * 1024 * 1024}\r\n` +
              'Connection: keep-alive\r\n\r\n',
          );
          // 64 KiB of the announced 50 MiB: the answer must not wait for the rest.
          socket.write(Buffer.alloc(64 * 1024));
        },
      );
      expect(closedBy).toBe('server');
      expect(status).toBe(401);
      const stored = fs.existsSync(path.join(dir, 'storage', 'incoming'));
      expect(stored).toBe(false);
      expect(await t.db('media_files').count({ n: '*' })).toEqual([{ n: 0 }]);
    }));

  it('refuses headers over 16 KiB with 431 before any route runs', () =>
    withServer({}, async (started) => {
      const base = new URL(started);
      const answer = (header: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect(Number(base.port), base.hostname);
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          socket.on('end', () => resolve(text));
          socket.on('error', reject);
          socket.write(
            `GET /api/admin/stats HTTP/1.1\r\nHost: ${base.host}\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n` +
              `X-Padding: ${header}\r\nConnection: close\r\n\r\n`,
          );
        });
      expect((await answer('x'.repeat(8 * 1024))).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect((await answer('x'.repeat(17 * 1024))).split('\r\n')[0]).toBe(
        'HTTP/1.1 431 Request Header Fields Too Large',
      );
    }));

  it('refuses a JSON body over 64 KiB with 413 in the API’s error shape, and does nothing', () =>
    withServer({}, async (base) => {
      const send = (reason: string) =>
        fetch(`${base}/api/admin/pause`, {
          method: 'POST',
          headers: { ...bearer(ADMIN_KEY), 'content-type': 'application/json' },
          body: JSON.stringify({ reason }),
        });
      const large = await send('x'.repeat(64 * 1024));
      expect(large.status).toBe(413);
      expect(await large.json()).toEqual({ error: 'payload_too_large', message: expect.any(String) });
      const stats = await fetch(`${base}/api/admin/stats`, { headers: bearer(ADMIN_KEY) });
      expect(((await stats.json()) as { pause: { paused: boolean } }).pause.paused).toBe(false);
      expect(await t.db('admin_audit').count({ n: '*' })).toEqual([{ n: 0 }]);
    }));
});
