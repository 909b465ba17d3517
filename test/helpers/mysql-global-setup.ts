/**
 * vitest globalSetup: finds a MySQL/MariaDB for the whole run, in this order:
 * TEST_DATABASE_URL; testcontainers when a Docker engine is reachable; a
 * throwaway `mariadbd` started from the installed binary in a temp dir.
 * With CI=true, having none is an error: MySQL tests never silently skip there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import mysql from 'mysql2/promise';
import { freePort } from './processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const found = process.env.TEST_DATABASE_URL
    ? { url: process.env.TEST_DATABASE_URL, stop: () => Promise.resolve() }
    : ((await startContainer()) ?? (await startLocalMariadb()));
  if (!found && process.env.CI === 'true') {
    throw new Error(
      'CI=true but no MySQL/MariaDB is available: set TEST_DATABASE_URL or install mariadb-server',
    );
  }
  if (!found)
    console.warn('\n*** no MySQL/MariaDB found: MySQL tests will not run (install mariadb-server) ***\n');
  project.provide('mysqlUrl', found?.url ?? null);
  return async () => {
    await found?.stop();
  };
}

async function startContainer(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (!fs.existsSync('/var/run/docker.sock') && !process.env.DOCKER_HOST) return undefined;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('mariadb:11')
      .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' })
      .withExposedPorts(3306)
      .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
      .start();
    const url = `mysql://root@127.0.0.1:${container.getMappedPort(3306)}/mysql`;
    return { url, stop: async () => void (await container.stop()) };
  } catch (error) {
    console.warn(`testcontainers unavailable (${(error as Error).message}); trying a local mariadbd`);
    return undefined;
  }
}

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function startLocalMariadb(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  const mariadbd = which('mariadbd') ?? which('mysqld');
  const installDb = which('mariadb-install-db') ?? which('mysql_install_db');
  if (!mariadbd || !installDb) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-mariadb-'));
  const user = os.userInfo().username;
  const install = spawnSync(
    installDb,
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--user=${user}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    mariadbd,
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--socket=${dir}/sock`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--user=${user}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=128M',
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500',
      `--pid-file=${dir}/pid`,
    ],
    { stdio: ['ignore', 'ignore', fs.openSync(`${dir}/server.log`, 'a')] },
  );
  const url = `mysql://root@127.0.0.1:${port}/mysql`;
  await waitUntilReachable(port, dir);
  return {
    url,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReachable(port: number, dir: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await connection.end();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`mariadbd did not become reachable on port ${port}; see ${dir}/server.log`);
}
