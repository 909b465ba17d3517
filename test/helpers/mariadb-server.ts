/**
 * A throwaway mariadbd whose life a test controls: its datadir and port are
 * chosen first, the server started later (a worker can be started against a
 * port where nothing listens yet), killed (SIGKILL: a crash, InnoDB recovers)
 * and started again on the same port and datadir. `media` exists from the
 * first start (created by --init-file before connections are served).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './processes.js';
import { outlivesTest } from './leak-check.js';

export interface MariadbServer {
  port: number;
  /** mysql://root@127.0.0.1:<port>/media */
  url: string;
  start(): Promise<void>;
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Kills it if running and removes its directory. */
  remove(): Promise<void>;
}

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function hasMariadb(): boolean {
  return (which('mariadbd') ?? which('mysqld')) !== undefined && which('mariadb-install-db') !== undefined;
}

/** Installs a datadir and picks a port; nothing listens until start(). */
export async function prepareMariadb(): Promise<MariadbServer> {
  const mariadbd = which('mariadbd') ?? which('mysqld')!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-mariadb-faults-'));
  const user = os.userInfo().username;
  const install = spawnSync(
    which('mariadb-install-db')!,
    ['--no-defaults', `--datadir=${dir}/data`, `--user=${user}`, '--auth-root-authentication-method=normal'],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
  fs.writeFileSync(`${dir}/init.sql`, 'CREATE DATABASE IF NOT EXISTS media CHARACTER SET utf8mb4;\n');
  const port = await freePort();
  let server: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const running = () => server !== undefined && server.exitCode === null && server.signalCode === null;
  const kill = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (!running()) return;
    server!.kill(signal);
    await exited;
  };
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/media`,
    start: async () => {
      if (running()) throw new Error('mariadbd is already running');
      server = spawn(mariadbd, serverArgs(dir, port, user), {
        stdio: ['ignore', 'ignore', fs.openSync(`${dir}/server.log`, 'a')],
      });
      const child = server;
      // Restarted within a test, it belongs to the file's fixture: checked when the file ends, not per test.
      outlivesTest(child);
      exited = new Promise((resolve) => child.once('exit', resolve));
      await waitUntilReachable(port, dir);
    },
    kill,
    remove: async () => {
      await kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serverArgs(dir: string, port: number, user: string): string[] {
  return [
    '--no-defaults',
    `--datadir=${dir}/data`,
    `--socket=${dir}/sock`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--user=${user}`,
    `--init-file=${dir}/init.sql`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=64M',
    '--innodb-flush-log-at-trx-commit=2',
    `--pid-file=${dir}/pid`,
  ];
}

async function waitUntilReachable(port: number, dir: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
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
