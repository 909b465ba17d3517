/**
 * A real S3 API for tests: Python moto's `moto_server` on 127.0.0.1 and a
 * free port, started per suite and stopped after it. Under CI=true a missing
 * moto is an error (the S3 suite must never skip silently there); elsewhere
 * `motoCommand()` answers undefined and the suite skips, saying what to install.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { freePort, waitFor } from './processes.js';

export const MOTO_INSTALL_HINT = 'S3 tests skipped: install moto 5 (pip install "moto[server]")';

/** Fake credentials moto accepts; tests set them in process.env (the SDK's default chain reads them). */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: 'us-east-1',
} as const;

/** How to start moto here: `moto_server`, else `python3 -m moto.server`; undefined when neither works. */
export function motoCommand(): string[] | undefined {
  const candidates = [['moto_server'], ['python3', '-m', 'moto.server']];
  const found = candidates.find(
    ([command, ...args]) => spawnSync(command!, [...args, '--help'], { stdio: 'ignore' }).status === 0,
  );
  if (!found && process.env.CI === 'true') {
    throw new Error(
      `CI=true but moto is not installed: ${MOTO_INSTALL_HINT.replace('S3 tests skipped: ', '')}`,
    );
  }
  return found;
}

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); idempotent. */
  stop(): Promise<void>;
}

/**
 * `env`: extra settings for moto (INITIAL_NO_AUTH_ACTION_COUNT=0 makes it
 * check credentials); `port`: a port chosen beforehand (a client configured
 * before the server exists), else a free one.
 */
export async function startMotoServer(
  command: string[],
  env: Record<string, string> = {},
  chosenPort?: number,
): Promise<MotoServer> {
  const port = chosenPort ?? (await freePort());
  const [program, ...args] = command;
  const child: ChildProcess = spawn(program!, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (!running) throw new Error(`moto_server exited during start-up: ${stderr}`);
        return fetch(`${endpoint}/moto-api/`).then(
          (response) => response.ok,
          () => false,
        );
      },
      'moto_server to answer',
      30_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port,
    async stop() {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface SuiteMoto {
  /** False outside CI when moto is not installed: the suite skips (under CI motoCommand throws instead). */
  readonly available: boolean;
  /** The running server, from the suite's first beforeAll on. */
  readonly server: MotoServer;
}

/**
 * moto for the calling suite: started in a beforeAll with FAKE_CREDENTIALS in
 * process.env (the SDK's default chain reads them), stopped and the
 * environment restored in an afterAll. Call it before the suite's own hooks:
 * they then run after the start, and their clean-up before the stop.
 */
export function useMotoServer(env: Record<string, string> = {}): SuiteMoto {
  const command = motoCommand();
  if (!command) console.warn(MOTO_INSTALL_HINT);
  let running: MotoServer | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    if (!command) return;
    for (const [name, value] of Object.entries(FAKE_CREDENTIALS)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    running = await startMotoServer(command, env);
  });
  afterAll(async () => {
    await running?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return {
    available: command !== undefined,
    get server(): MotoServer {
      if (!running) throw new Error('moto is not running: use the server inside hooks or tests');
      return running;
    },
  };
}
