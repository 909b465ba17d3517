/** Redirects from the main API: followed on its own origin, never followed elsewhere (transient: a deployment problem, not the upload's). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors.js';
import { MainApiAuthState } from '../../src/intake/main-api-auth.js';
import { MainApiClient } from '../../src/intake/main-api-client.js';
import { silentLogger } from '../../src/log.js';
import { startTrap } from '../helpers/fake-main-api.js';

describe('main API redirects', () => {
  let server: http.Server;
  let base = '';
  let trap: Awaited<ReturnType<typeof startTrap>>;

  beforeAll(async () => {
    trap = await startTrap();
    server = http.createServer((req, res) => {
      const port = (server.address() as AddressInfo).port;
      const targets: Record<string, string> = {
        '/temp_images/elsewhere.jpg': `${trap.url}/temp_images/x.jpg`,
        '/temp_images/ipv6.jpg': `http://[::1]:${port}/temp_images/x.jpg`,
        '/temp_images/same.jpg': '/temp_images/real.jpg',
      };
      const target = targets[req.url ?? ''];
      if (target) return void res.writeHead(302, { Location: target }).end();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': 3 }).end('abc');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await trap.stop();
  });

  const client = () =>
    new MainApiClient({
      baseUrl: base,
      apiKey: 'k',
      timeoutMs: 2000,
      downloadDeadlineMs: 5000,
      maxUploadBytes: 1000,
      pendingListMaxBytes: 1000,
      auth: new MainApiAuthState(silentLogger()),
    });

  it('refuses a redirect to another origin as TRANSIENT, and never contacts it', async () => {
    const error = await client()
      .download('/temp_images/elsewhere.jpg')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/redirected to another origin/);
    expect(trap.hits).toEqual([]);
  });

  it('names an IPv6 redirect target correctly instead of failing on an invalid URL', async () => {
    const error = await client()
      .download('/temp_images/ipv6.jpg')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/\[::1\]/);
  });

  it('follows a redirect on its own origin', async () => {
    const { stream } = await client().download('/temp_images/same.jpg');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });
});
