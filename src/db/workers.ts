/** The workers table: who is running, where, and whether they are still alive. */
import os from 'node:os';
import type { Db } from './connect.js';
import { toNumber } from './row-values.js';

export interface WorkerRecord {
  worker_id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

export async function registerWorker(
  db: Db,
  workerId: string,
  version: string,
  concurrency: number,
): Promise<void> {
  const now = Date.now();
  const row = {
    host: os.hostname(),
    pid: process.pid,
    version,
    concurrency,
    started_at: now,
    heartbeat_at: now,
    stopped_at: null,
  };
  await db('workers')
    .insert({ worker_id: workerId, ...row })
    .onConflict('worker_id')
    .merge(row);
}

export async function touchWorker(db: Db, workerId: string): Promise<void> {
  await db('workers').where({ worker_id: workerId }).update({ heartbeat_at: Date.now() });
}

export async function markWorkerStopped(db: Db, workerId: string): Promise<void> {
  await db('workers').where({ worker_id: workerId }).update({ stopped_at: Date.now() });
}

/** A worker is alive when it has not stopped and its heartbeat is younger than `staleMs`. */
export async function listLiveWorkers(db: Db, staleMs: number): Promise<WorkerRecord[]> {
  const rows = (await db('workers')
    .whereNull('stopped_at')
    .andWhere('heartbeat_at', '>=', Date.now() - staleMs)
    .orderBy('worker_id')) as WorkerRecord[];
  return rows.map((row) => ({
    ...row,
    started_at: toNumber(row.started_at),
    heartbeat_at: toNumber(row.heartbeat_at),
  }));
}
