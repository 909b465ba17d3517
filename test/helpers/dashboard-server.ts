/**
 * A real server with the dashboard on 127.0.0.1, over a database whose
 * items went through the real pipeline (sharp, the local analysis): what
 * the browser tests look at. Keys: an admin (alice), a second admin (bob)
 * and a read-only key (reader). Close it in the test that started it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { adminSettingsOf } from '../../src/admin/admin-context.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { NamedKey } from '../../src/http/api-keys.js';
import { createServer } from '../../src/http/server.js';
import { Metrics } from '../../src/metrics.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { serverStorage, testServerOptions } from './server-storage.js';
import { createTestDatabase, type Dialect, type TestDatabase } from './test-database.js';

export const ALICE_KEY = 'alice-admin-key-0123456789';
export const BOB_KEY = 'bob-admin-key-0123456789ab';
export const READER_KEY = 'reader-only-key-0123456789';

export interface DashboardServer {
  base: string;
  t: TestDatabase;
  config: Config;
  store: FsObjectStore;
  dir: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

export interface DashboardServerOptions {
  dialect?: Dialect;
  /** Fills the database before the server starts (ingest and process items). */
  prepare?: (parts: { t: TestDatabase; config: Config; store: FsObjectStore; dir: string }) => Promise<void>;
  sessionHours?: number;
  idleMinutes?: number;
  /** More settings for loadConfig (e.g. DISK_ALERT_PERCENT). */
  env?: Record<string, string>;
  /** Another server's database (a second process of the same fleet): not dropped by this server's close. */
  shared?: DashboardServer;
  adminKeys?: NamedKey[];
  readOnlyKeys?: NamedKey[];
  trustProxy?: string[];
}

const ADMIN_KEYS: NamedKey[] = [
  { name: 'alice', key: ALICE_KEY },
  { name: 'bob', key: BOB_KEY },
];
const READ_ONLY_KEYS: NamedKey[] = [{ name: 'reader', key: READER_KEY }];

export async function startDashboardServer(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const t = options.shared?.t ?? (await createTestDatabase(options.dialect ?? 'sqlite'));
  const dir = options.shared?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-dashboard-'));
  const config = loadConfig({
    DATABASE_URL: t.url,
    STORAGE_DIR: path.join(dir, 'storage'),
    ANALYSIS_PROVIDERS: 'local',
    ...options.env,
  });
  const store = new FsObjectStore(config.storageDir);
  try {
    return await listen(t, dir, config, store, options);
  } catch (error) {
    if (!options.shared) {
      await t.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    throw error;
  }
}

async function listen(
  t: TestDatabase,
  dir: string,
  config: Config,
  store: FsObjectStore,
  options: DashboardServerOptions,
): Promise<DashboardServer> {
  await options.prepare?.({ t, config, store, dir });
  const metrics = new Metrics();
  metrics.watchQueue(t.db, config.storageDir);
  const server = createServer(
    testServerOptions(t.db, {
      ...serverStorage(store),
      metrics,
      adminKeys: options.adminKeys ?? ADMIN_KEYS,
      readOnlyKeys: options.readOnlyKeys ?? READ_ONLY_KEYS,
      ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
      admin: { store, settings: adminSettingsOf(config) },
      dashboard: {
        sessionHours: options.sessionHours ?? 8,
        idleMinutes: options.idleMinutes ?? 30,
        cookieSecure: 'auto',
      },
    }),
  );
  const base = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    base,
    t,
    config,
    store,
    dir,
    server,
    async close() {
      await server.close();
      if (options.shared) return;
      await t.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
