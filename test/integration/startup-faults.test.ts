/**
 * Start-up and outages as an operator meets them, with real processes: a
 * database that is not up yet, one that crashes under a running worker, one
 * that accepts connections and never answers, credentials that can never
 * work, a storage directory that cannot be created, read-only commands on a
 * database that is not there. Nothing is lost, nothing exits on its own, and
 * every line a running process prints is JSON.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { hasMariadb, prepareMariadb, type MariadbServer } from '../helpers/mariadb-server.js';
import { CLI, ROOT, freePort, runCli, start, waitFor } from '../helpers/processes.js';

const SAMPLE = path.join(ROOT, 'samples/images/cat-chelsea.png');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything a child has printed so far, live (processes.ts only hands it over at exit). */
function captureOutput(child: ChildProcess): () => string[] {
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text.split('\n').filter((line) => line.trim() !== '');
}

function expectAllJson(lines: string[]): void {
  for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
}

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: await response.text() };
}

async function itemStatus(url: string, id: number): Promise<string | undefined> {
  const db = connectDatabase(parseDatabaseUrl(url));
  try {
    const row = (await db('media_files').where({ id }).first('status')) as { status: string } | undefined;
    return row?.status;
  } finally {
    await db.destroy();
  }
}

const children: ChildProcess[] = [];
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-startup-'));
});
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function spawnCli(args: string[], env: Record<string, string>) {
  const spawned = start(process.execPath, [CLI, ...args], env);
  children.push(spawned.child);
  return { ...spawned, lines: captureOutput(spawned.child) };
}

describe.runIf(hasMariadb())('a MariaDB that is down', () => {
  let server: MariadbServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await prepareMariadb();
    env = {
      DATABASE_URL: server.url,
      STORAGE_DIR: path.join(dir, 'storage-mariadb'),
      ANALYSIS_PROVIDERS: 'local',
      POLL_INTERVAL_MS: '50',
      IDLE_MAX_MS: '500',
      LEASE_MS: '3000',
      RETRY_BASE_MS: '50',
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => server.remove());

  async function ingestAndWait(): Promise<void> {
    const ingest = await runCli(['ingest', SAMPLE, '--role', 'product', '--json'], env);
    expect(ingest.code, ingest.stderr).toBe(0);
    const [id] = (JSON.parse(ingest.stdout) as { ids: number[] }).ids;
    await waitFor(async () => (await itemStatus(server.url, id!)) === 'completed', 'the item to complete');
  }

  it('run and migrate wait for it to start, then work (server first: /readyz says why)', async () => {
    const httpPort = await freePort();
    const startedAt = Date.now();
    const migrate = spawnCli(['migrate'], env);
    const run = spawnCli(['run', '--no-migrate', '--http-port', String(httpPort)], env);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined))?.ok === true,
      'the server to listen while the database is down',
    );
    const waiting = await readyz(httpPort);
    expect(waiting.status).toBe(503);
    expect(waiting.body).toMatch(/database unreachable: .*ECONNREFUSED/);
    for (const child of [migrate, run])
      await waitFor(
        () => child.lines().some((l) => l.includes('database unreachable; waiting')),
        'a warning',
      );
    await sleep(Math.max(0, 8000 - (Date.now() - startedAt)));
    expect(migrate.child.exitCode).toBeNull();
    expect(run.child.exitCode).toBeNull();

    await server.start();
    const migrated = await migrate.finished;
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^latest: /);
    expectAllJson(migrated.stderr.split('\n').filter(Boolean));
    await ingestAndWait();
    await waitFor(async () => (await readyz(httpPort)).status === 200, '/readyz to pass');

    run.child.kill('SIGTERM');
    const stopped = await run.finished;
    expect(stopped.code, stopped.stderr).toBe(0);
    expectAllJson(run.lines());
    // One warning per interval, not one per attempt: the 8 s wait is a handful of lines.
    expect(run.lines().filter((l) => l.includes('database unreachable; waiting')).length).toBeLessThanOrEqual(
      3,
    );
  });

  it('a running worker outlives a crash of the database, quietly, and works after it', async () => {
    const run = spawnCli(['run', '--no-serve'], env);
    await waitFor(() => run.lines().some((l) => l.includes('"worker started"')), 'the worker to start');
    await ingestAndWait();
    const before = run.lines().length;
    const killedAt = Date.now();
    await server.kill('SIGKILL');
    await waitFor(() => run.lines().some((l) => l.includes('claim failed')), 'claims to fail');
    await sleep(10_000);
    await server.start();
    const outageSeconds = (Date.now() - killedAt) / 1000;
    const outageLines = run.lines().length - before;
    expect(run.child.exitCode).toBeNull();
    expect(outageLines).toBeLessThan(2 * outageSeconds);

    await ingestAndWait();
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    const stopped = await run.finished;
    expect(stopped.code, stopped.stderr).toBe(0);
    expectAllJson(run.lines());
  });
});

describe('a database that accepts connections and never answers', () => {
  it('/readyz answers, naming the check that timed out, and SIGTERM still stops the wait', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const dbPort = (silent.address() as net.AddressInfo).port;
    const httpPort = await freePort();
    try {
      const run = spawnCli(['run', '--http-port', String(httpPort)], {
        DATABASE_URL: `mysql://root@127.0.0.1:${dbPort}/media`,
        STORAGE_DIR: path.join(dir, 'storage-silent'),
        LOG_LEVEL: 'info',
      });
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined))?.ok === true,
        'the server to listen',
      );
      const answer = await readyz(httpPort);
      expect(answer.status).toBe(503);
      const checks = (JSON.parse(answer.body) as { checks: Record<string, { ok: boolean; detail?: string }> })
        .checks;
      expect(checks.database).toEqual({ ok: false, detail: 'database check timed out after 2000 ms' });
      expect(checks.storage).toEqual({ ok: true });
      run.child.kill('SIGTERM');
      const stopped = await run.finished;
      expect(stopped.code, stopped.stderr).toBe(0);
      expectAllJson(run.lines());
    } finally {
      silent.close();
    }
  });
});

describe('configuration that can never work: exit 2, one line', () => {
  const mysqlUrl = inject('mysqlUrl');
  const withPassword = (url: string, password: string) =>
    url.replace('mysql://root@', `mysql://root:${password}@`);

  it.runIf(mysqlUrl)('a wrong MySQL password names DATABASE_URL, not the password', async () => {
    const url = withPassword(mysqlUrl!, 'not-the-password');
    for (const args of [['stats'], ['migrate'], ['run', '--no-serve']]) {
      const result = await runCli(args, { DATABASE_URL: url, STORAGE_DIR: path.join(dir, 'storage-pw') });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/DATABASE_URL mysql:\/\/root:\*\*\*@.*refused the user name or password/);
      expect(result.stderr + result.stdout).not.toContain('not-the-password');
    }
  });

  it.runIf(mysqlUrl)('an unknown database', async () => {
    const url = mysqlUrl!.replace(/\/[^/]*$/, '/no_such_database');
    const result = await runCli(['migrate'], { DATABASE_URL: url });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/DATABASE_URL .*no_such_database: the server has no such database/);
  });

  it('a STORAGE_DIR that cannot be created stops run before it claims (no spin, no hang)', async () => {
    const result = await runCli(['run', '--no-serve'], {
      DATABASE_URL: `sqlite:${path.join(dir, 'storage-check.sqlite')}`,
      STORAGE_DIR: '/proc/nonexistent/x',
      LOG_LEVEL: 'warn',
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      "media-worker: STORAGE_DIR /proc/nonexistent/x cannot be used: ENOENT: no such file or directory, mkdir '/proc/nonexistent'",
    ]);
    expect(result.stdout).not.toMatch(/worker started/);
  });

  it('a SQLite file under a directory that cannot be created', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: 'sqlite:/proc/nonexistent/db.sqlite' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/DATABASE_URL sqlite:\/proc\/nonexistent\/db.sqlite: ENOENT/);
  });

  it('DATABASE_WAIT_MS bounds the wait: exit 1 once it is over', async () => {
    const port = await freePort();
    const result = await runCli(['migrate'], {
      DATABASE_URL: `mysql://root@127.0.0.1:${port}/media`,
      DATABASE_WAIT_MS: '1500',
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^media-worker: DATABASE_URL .* unreachable: .*gave up after DATABASE_WAIT_MS=1500/,
    );
    expectAllJson(lines.slice(0, -1));
  });
});

describe('read-only commands on a database that is not there', () => {
  it('stats and show neither create the SQLite file nor print SQL: they say to migrate', async () => {
    const missing = path.join(dir, 'missing.sqlite');
    for (const args of [['stats'], ['show', '1'], ['stats', '--json']]) {
      const result = await runCli(args, { DATABASE_URL: `sqlite:${missing}` });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([
        `media-worker: DATABASE_URL sqlite:${missing}: no such SQLite file; run \`media-worker migrate\` first (or fix DATABASE_URL)`,
      ]);
    }
    expect(fs.existsSync(missing)).toBe(false);

    const empty = path.join(dir, 'empty.sqlite');
    fs.writeFileSync(empty, '');
    const result = await runCli(['stats'], { DATABASE_URL: `sqlite:${empty}` });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `media-worker: DATABASE_URL sqlite:${empty} has no media-worker tables: run \`media-worker migrate\` first (or fix DATABASE_URL)`,
    ]);
    expect(fs.statSync(empty).size).toBe(0);
  });
});
