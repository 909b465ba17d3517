/**
 * Real worker processes on one database: collision-safe claiming across
 * processes, and recovery from a worker killed with SIGKILL mid-step.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { findChecklist } from '../../src/db/records.js';
import { addItems } from '../helpers/in-process-worker.js';
import { startTrivialWorker, waitFor } from '../helpers/processes.js';
import { availableDialects, createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

function readRuns(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

describe.each(availableDialects())('worker processes on %s', (dialect) => {
  let t: TestDatabase;
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    t = await createTestDatabase(dialect);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-runs-'));
  });
  afterEach(() => {
    // Nothing may be left running after a test (graphile-worker's rule).
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('4 processes process 200 items exactly once each', async () => {
    await t.db('media_files').delete();
    const ids = await addItems(t.db, 200);
    const runLog = path.join(dir, 'concurrency.log');
    const workers = [1, 2, 3, 4].map((n) =>
      startTrivialWorker({
        DATABASE_URL: t.url,
        WORKER_ID: `w${n}`,
        CONCURRENCY: '3',
        ONCE: '1',
        RUN_LOG: runLog,
        POLL_INTERVAL_MS: '20',
        IDLE_MAX_MS: '200',
      }),
    );
    children.push(...workers.map((w) => w.child));
    const results = await Promise.all(workers.map((w) => w.finished));
    for (const result of results) expect(result.code, result.stderr).toBe(0);

    const runs = readRuns(runLog);
    expect(runs).toHaveLength(400);
    const seen = new Set(runs.map((line) => line.split(' ').slice(0, 2).join(' ')));
    expect(seen.size).toBe(400);
    const perWorker = new Set(runs.map((line) => line.split(' ')[2]));
    expect(perWorker.size).toBeGreaterThan(1);

    const rows = (await t.db('processing_checklist').whereIn('media_id', ids)) as Array<
      Record<string, unknown>
    >;
    expect(rows).toHaveLength(200);
    for (const row of rows) {
      expect(row).toMatchObject({
        state: 'completed',
        retrieve_file: 'completed',
        update_callback: 'completed',
        claim_token: null,
      });
      expect(Number(row.retrieve_file_attempts)).toBe(1);
      expect(Number(row.update_callback_attempts)).toBe(1);
    }
    const statuses = (await t
      .db('media_files')
      .whereIn('id', ids)
      .distinct('status')
      .pluck('status')) as string[];
    expect(statuses).toEqual(['completed']);
  });

  it('a worker killed with SIGKILL mid-step loses nothing: another takes over after the lease', async () => {
    await t.db('media_files').delete();
    const ids = await addItems(t.db, 5);
    const victim = ids[2]!;
    const runLog = path.join(dir, 'crash.log');
    const marker = path.join(dir, 'hang.marker');
    const env = {
      DATABASE_URL: t.url,
      LEASE_MS: '1500',
      POLL_INTERVAL_MS: '20',
      IDLE_MAX_MS: '200',
      RETRY_BASE_MS: '50',
      RUN_LOG: runLog,
    };
    const doomed = startTrivialWorker({
      ...env,
      WORKER_ID: 'doomed',
      CONCURRENCY: '1',
      HANG_ON: String(victim),
      HANG_MARKER: marker,
    });
    children.push(doomed.child);
    await waitFor(() => fs.existsSync(marker), 'the doomed worker to start the victim item');
    doomed.child.kill('SIGKILL');
    expect((await doomed.finished).signal).toBe('SIGKILL');
    expect((await findChecklist(t.db, victim))!.worker_id).toBe('doomed');

    const rescuer = startTrivialWorker({ ...env, WORKER_ID: 'rescuer', CONCURRENCY: '2', ONCE: '1' });
    children.push(rescuer.child);
    const result = await rescuer.finished;
    expect(result.code, result.stderr).toBe(0);

    const rows = (await t.db('processing_checklist').whereIn('media_id', ids)) as Array<
      Record<string, unknown>
    >;
    for (const row of rows) expect(row.state).toBe('completed');
    const victimRow = (await findChecklist(t.db, victim))!;
    expect(victimRow.retrieve_file_attempts).toBe(2);
    expect(victimRow.update_callback_attempts).toBe(1);
    const runs = readRuns(runLog);
    // The victim's retrieve ran twice (once in the killed process); every other step exactly once.
    expect(runs.filter((line) => line.startsWith(`${victim} retrieve`))).toEqual([
      `${victim} retrieve doomed`,
      `${victim} retrieve rescuer`,
    ]);
    expect(runs.filter((line) => line.startsWith(`${victim} callback`))).toEqual([
      `${victim} callback rescuer`,
    ]);
    expect(new Set(runs).size).toBe(runs.length);
    const events = (await t.db('processing_events').where({ media_id: victim }).pluck('event')) as string[];
    expect(events).toContain('retry_scheduled');
  });

  it('heartbeats keep the lease of a step that runs longer than a lease: no takeover', async () => {
    await t.db('media_files').delete();
    const [slow] = await addItems(t.db, 1);
    const runLog = path.join(dir, 'heartbeat.log');
    const env = {
      DATABASE_URL: t.url,
      LEASE_MS: '1000',
      POLL_INTERVAL_MS: '20',
      IDLE_MAX_MS: '100',
      RUN_LOG: runLog,
      ONCE: '1',
    };
    const owner = startTrivialWorker({ ...env, WORKER_ID: 'owner', SLOW_ON: String(slow), SLOW_MS: '4000' });
    children.push(owner.child);
    await waitFor(() => fs.existsSync(`${runLog}.slow`), 'the slow step to start');
    // A second worker polls all through the slow step (four leases long) and must find nothing to take over.
    const rival = startTrivialWorker({ ...env, WORKER_ID: 'rival', ONCE: '0' });
    children.push(rival.child);
    const result = await owner.finished;
    expect(result.code, result.stderr).toBe(0);
    rival.child.kill('SIGTERM');
    expect((await rival.finished).code).toBe(0);
    expect(await findChecklist(t.db, slow!)).toMatchObject({ state: 'completed', retrieve_file_attempts: 1 });
    expect(readRuns(runLog)).toEqual([`${slow} retrieve owner`, `${slow} callback owner`]);
    const events = (await t.db('processing_events').where({ media_id: slow }).pluck('event')) as string[];
    expect(events).not.toContain('retry_scheduled');
  });
});
