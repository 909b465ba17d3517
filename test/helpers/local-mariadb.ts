/** A throwaway MariaDB from the installed binary, in a temp dir: for tests and benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './processes.js';
import { outlivesTest } from './leak-check.js';

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** A throwaway MariaDB for a whole test run (the vitest globalSetup, the benches); stopped cleanly. */
export async function startLocalMariadb(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  const server = await startRestartableMariadb();
  if (!server) return undefined;
  return {
    url: server.url,
    stop: async () => {
      await server.kill('SIGTERM');
      await server.stop();
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

/** A throwaway MariaDB that a test can crash or stop and start again on the same datadir and port. */
export interface RestartableMariadb {
  url: string;
  port: number;
  /** Server log (mariadbd's stderr), for failure messages. */
  logFile: string;
  isRunning(): boolean;
  /** SIGTERM: a clean shutdown; SIGKILL: a crash (InnoDB recovers on the next start). Data is kept. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the server again (same datadir, same port); resolves once it answers. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

export async function startRestartableMariadb(): Promise<RestartableMariadb | undefined> {
  const mariadbd = which('mariadbd') ?? which('mysqld');
  const installDb = which('mariadb-install-db') ?? which('mysql_install_db');
  if (!mariadbd || !installDb) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-mariadb-restartable-'));
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
  const logFile = `${dir}/server.log`;
  let server: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const launch = async () => {
    server = spawn(
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
      { stdio: ['ignore', 'ignore', fs.openSync(logFile, 'a')] },
    );
    const child = server;
    // Restarted within a test, it belongs to the file's fixture: checked when the file ends, not per test.
    outlivesTest(child);
    exited = new Promise((resolve) => child.once('exit', resolve));
    await waitUntilReachable(port, dir);
  };
  const isRunning = () => server !== undefined && server.exitCode === null && server.signalCode === null;
  const kill = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (!isRunning()) return;
    server!.kill(signal);
    await exited;
  };
  await launch();
  return {
    url: `mysql://root@127.0.0.1:${port}/mysql`,
    port,
    logFile,
    isRunning,
    kill,
    restart: async () => {
      if (isRunning()) throw new Error('restart() of a MariaDB that is still running');
      await launch();
    },
    stop: async () => {
      await kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
