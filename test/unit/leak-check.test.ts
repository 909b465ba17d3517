/** The leak check itself: it sees a leaked server, socket, timer, child process and Db, and lets go once they are closed. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, settledLeaks, snapshot, describeLeaks } from '../helpers/leak-check.js';
import { createTestDatabase } from '../helpers/test-database.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('leak check', () => {
  it('names a leaked server with its address, and is satisfied once it is closed', async () => {
    const before = snapshot();
    const server = net.createServer();
    const port = await listen(server);
    const leaks = findLeaks(before);
    expect(leaks).toEqual([
      { type: 'TCPServerWrap', count: 1, details: [expect.stringContaining(`127.0.0.1:${port}`)] },
    ]);
    expect(describeLeaks(leaks, 'this test')).toContain(`TCPServerWrap ×1`);
    await close(server);
    expect(await settledLeaks(before)).toEqual([]);
  });

  it('counts a ref’d timer, not an unref’d one', async () => {
    const before = snapshot();
    const unrefd = setTimeout(() => undefined, 60_000).unref();
    expect(findLeaks(before)).toEqual([]);
    const timer = setInterval(() => undefined, 60_000);
    expect(findLeaks(before)).toEqual([expect.objectContaining({ type: 'Timeout', count: 1 })]);
    clearInterval(timer);
    clearTimeout(unrefd);
    expect(await settledLeaks(before)).toEqual([]);
  });

  it('names a leaked child process by pid and command', async () => {
    const before = snapshot();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const leaks = findLeaks(before);
    const processes = leaks.find((leak) => leak.type === 'ProcessWrap');
    expect(processes?.details).toEqual([expect.stringMatching(new RegExp(`pid ${child.pid}: .*setTimeout`))]);
    child.kill('SIGKILL');
    await exited;
    expect(await settledLeaks(before)).toEqual([]);
  });

  it('reports what is still open after the settle period, and waits for what is closing', async () => {
    const before = snapshot();
    const server = net.createServer();
    await listen(server);
    expect(await settledLeaks(before, 100)).toEqual([expect.objectContaining({ type: 'TCPServerWrap' })]);
    const closing = close(server); // closes asynchronously: settledLeaks must wait for it
    expect(await settledLeaks(before)).toEqual([]);
    await closing;
  });

  it('cannot be fooled by closing something older: a new server beside a closed one is still new', async () => {
    const old = net.createServer();
    await listen(old);
    const before = snapshot();
    await close(old);
    const server = net.createServer();
    await listen(server);
    expect(findLeaks(before)).toEqual([expect.objectContaining({ type: 'TCPServerWrap', count: 1 })]);
    await close(server);
  });

  it('reports a Db that was never destroyed (SQLite has no handle to see)', async () => {
    const before = snapshot();
    const database = await createTestDatabase('sqlite');
    const leaks = findLeaks(before);
    expect(leaks).toContainEqual({
      type: 'knex pool (Db not destroyed)',
      count: 1,
      details: [expect.stringMatching(/better-sqlite3 .*mw_test_.*leak-check\.test\.ts/)],
    });
    await database.drop();
    expect(await settledLeaks(before)).toEqual([]);
  });
});

describe('leak check with a server shared by beforeAll', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('does not count the keep-alive connections of a server that was already running', async () => {
    const before = snapshot();
    const agent = new http.Agent({ keepAlive: true });
    const response = await fetchText(`http://127.0.0.1:${port}/`, agent);
    expect(response).toBe('ok');
    // The server's side of the idle keep-alive connection stays open: the server's business, closed
    // with it; the client's side is idle in the agent's pool, which Node unrefs.
    expect(await settledLeaks(before, 200)).toEqual([]);
    const accepted = [...snapshot().handles].filter(
      (h) => h instanceof net.Socket && (h as { server?: unknown }).server === server,
    );
    expect(accepted).toHaveLength(1);
    agent.destroy();
    expect(await settledLeaks(before)).toEqual([]);
  });
});

function fetchText(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('leak check wired into every test (test/helpers/leak-check-setup.ts)', () => {
  let leaked: net.Server | undefined;
  let port = 0;
  let failure = '';
  afterAll(() => (leaked ? close(leaked) : undefined));

  it.fails('fails a test that leaves a server listening', async ({ onTestFailed }) => {
    onTestFailed(({ task }) => {
      failure = task.result?.errors?.map((e) => e.message).join('\n') ?? '';
    });
    leaked = net.createServer();
    port = await listen(leaked);
  });

  it('and the failure says what leaked and where it listens', () => {
    expect(failure).toContain('this test left running:\n  TCPServerWrap ×1');
    expect(failure).toContain(`server listening on 127.0.0.1:${port}`);
  });
});
