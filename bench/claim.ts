/**
 * bench/claim: claim throughput and fairness on MariaDB with 1, 2, 4 and 8
 * real worker processes (the real claim, lease, fencing and checklist writes;
 * trivial steps). Claims/s comes from the database's own event timestamps
 * (first start to last completion), and every process has loaded before any
 * claims (a start gate), so process start-up is not counted.
 * Duplicates come from the steps' run log and must be 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectDatabase, type Db } from '../src/db/connect.js';
import { parseDatabaseUrl } from '../src/db/database-url.js';
import { migrateLatest } from '../src/db/migrate.js';
import { startLocalMariadb } from '../test/helpers/local-mariadb.js';
import { startTrivialWorker } from '../test/helpers/processes.js';
import { markdownTable, median, round, writeResults } from './lib/report.js';

const ITEMS = 2000;
const PROCESSES = (process.env.BENCH_CLAIM_PROCESSES ?? '1,2,4,8').split(',').map(Number);
const REPETITIONS = Number(process.env.BENCH_CLAIM_REPETITIONS ?? 2);

async function innodbCounters(db: Db): Promise<{ lockWaits: number; deadlocks: number }> {
  const [rows] = (await db.raw(
    `SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_deadlocks')`,
  )) as [Array<{ Variable_name: string; Value: string }>];
  const value = (name: string) => Number(rows.find((r) => r.Variable_name === name)?.Value ?? 0);
  return { lockWaits: value('Innodb_row_lock_waits'), deadlocks: value('Innodb_deadlocks') };
}

/** CPU time of the MariaDB server so far (all mariadbd processes: the bench's own is the only one). */
function mariadbCpuMs(): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'mariadbd') continue;
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

async function seedItems(db: Db): Promise<void> {
  const now = Date.now();
  const media = Array.from({ length: ITEMS }, (_, i) => ({
    id: i + 1,
    source: 'local',
    source_path: `/bench/${i}`,
    user_id: 1,
    role: 'product',
    data_type: 'product',
    status: 'pending',
    created_at: now,
    updated_at: now,
  }));
  await db.batchInsert('media_files', media, 500);
  await db.batchInsert(
    'processing_checklist',
    media.map((m) => ({ media_id: m.id, next_attempt_at: now, created_at: now, updated_at: now })),
    500,
  );
}

async function runOnce(serverUrl: string, processes: number, dir: string) {
  const name = `mw_claim_${processes}_${Date.now()}`;
  const admin = connectDatabase(parseDatabaseUrl(serverUrl));
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const db = connectDatabase(parseDatabaseUrl(url));
  await migrateLatest(db);
  await seedItems(db);
  const runLog = path.join(dir, `${name}.log`);
  const gate = path.join(dir, `${name}.start`);
  const before = await innodbCounters(admin);
  const workers = Array.from({ length: processes }, (_, n) =>
    startTrivialWorker({
      DATABASE_URL: url,
      WORKER_ID: `w${n}`,
      CONCURRENCY: '4',
      ONCE: '1',
      RUN_LOG: runLog,
      POLL_INTERVAL_MS: '20',
      IDLE_MAX_MS: '100',
      LOG_LEVEL: 'error',
      START_GATE: gate,
      REPORT_CPU: '1',
    }),
  );
  // Every process loaded (tsx compiling is CPU the others would lose) before any claims.
  const ready = () => fs.readdirSync(dir).filter((file) => file.startsWith(`${name}.start.ready.`)).length;
  while (ready() < processes) await new Promise((resolve) => setTimeout(resolve, 20));
  const databaseCpuBefore = mariadbCpuMs();
  fs.writeFileSync(gate, '');
  const finished = await Promise.all(workers.map((w) => w.finished));
  for (const result of finished) if (result.code !== 0) throw new Error(result.stderr);
  const databaseCpuMs = mariadbCpuMs() - databaseCpuBefore;
  const workerCpuMs =
    finished.reduce((sum, result) => sum + Number(/cpu-us (\d+)/.exec(result.stderr)?.[1] ?? 0), 0) / 1000;
  const after = await innodbCounters(admin);
  const window = (await db('processing_events')
    .whereIn('event', ['started', 'completed'])
    .min({ first: 'at' })
    .max({ last: 'at' })
    .first()) as { first: number | string; last: number | string };
  const lines = fs.readFileSync(runLog, 'utf8').trim().split('\n');
  const retrieves = lines.filter((l) => l.includes(' retrieve '));
  const perWorker = new Map<string, number>();
  for (const line of retrieves)
    perWorker.set(line.split(' ')[2]!, (perWorker.get(line.split(' ')[2]!) ?? 0) + 1);
  const shares = [...perWorker.values()];
  await db.destroy();
  await admin.raw(`DROP DATABASE ${name}`);
  await admin.destroy();
  const seconds = (Number(window.last) - Number(window.first)) / 1000;
  return {
    workerCpuMsPerItem: workerCpuMs / ITEMS,
    databaseCpuMsPerItem: databaseCpuMs / ITEMS,
    claimsPerSecond: ITEMS / seconds,
    duplicates: retrieves.length - new Set(retrieves.map((l) => l.split(' ')[0])).size,
    lockWaits: after.lockWaits - before.lockWaits,
    deadlocks: after.deadlocks - before.deadlocks,
    fairness: shares.length === processes ? Math.min(...shares) / Math.max(...shares) : 0,
  };
}

export async function benchClaim(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-claim-'));
  const server = process.env.TEST_DATABASE_URL
    ? { url: process.env.TEST_DATABASE_URL, stop: () => Promise.resolve() }
    : await startLocalMariadb();
  if (!server) throw new Error('bench claim needs MariaDB: install mariadb-server or set TEST_DATABASE_URL');
  try {
    const runs: Record<number, Array<Awaited<ReturnType<typeof runOnce>>>> = {};
    for (let rep = 0; rep < REPETITIONS; rep++)
      for (const n of PROCESSES) (runs[n] ??= []).push(await runOnce(server.url, n, dir));
    const rows = PROCESSES.map((n) => ({
      processes: n,
      claimsPerSecond: round(median(runs[n]!.map((r) => r.claimsPerSecond)), 0),
      bestClaimsPerSecond: round(Math.max(...runs[n]!.map((r) => r.claimsPerSecond)), 0),
      duplicates: runs[n]!.reduce((s, r) => s + r.duplicates, 0),
      lockWaits: runs[n]!.reduce((s, r) => s + r.lockWaits, 0),
      deadlocks: runs[n]!.reduce((s, r) => s + r.deadlocks, 0),
      fairness: round(median(runs[n]!.map((r) => r.fairness))),
      workerCpuMsPerItem: round(median(runs[n]!.map((r) => r.workerCpuMsPerItem))),
      databaseCpuMsPerItem: round(median(runs[n]!.map((r) => r.databaseCpuMsPerItem))),
    }));
    const table = markdownTable(
      [
        'worker processes (×4 slots)',
        'claims/s (median)',
        'best',
        'duplicate claims',
        'row lock waits',
        'deadlocks',
        'fairness (min/max share)',
        'worker CPU ms/item',
        'mariadbd CPU ms/item',
      ],
      rows.map((r) => [
        r.processes,
        r.claimsPerSecond,
        r.bestClaimsPerSecond,
        r.duplicates,
        r.lockWaits,
        r.deadlocks,
        r.fairness,
        r.workerCpuMsPerItem,
        r.databaseCpuMsPerItem,
      ]),
    );
    writeResults(
      'claim',
      {
        items: ITEMS,
        repetitions: REPETITIONS,
        note: 'throwaway mariadbd with innodb_flush_log_at_trx_commit=2; every claimed item makes 5 fenced checklist transactions',
        rows,
      },
      `## claim (${ITEMS} items, trivial steps, MariaDB, ${REPETITIONS} repetitions)\n\n${table}`,
    );
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
