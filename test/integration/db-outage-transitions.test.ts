/**
 * A worker holding an item while MariaDB crashes and comes back: the item's
 * transition waits the outage out (fenced, so safe to repeat) and the item
 * is settled by the worker that holds it — no expired lease, no counted
 * attempt, no second run of the step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Db } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { findChecklist } from '../../src/db/records.js';
import type { Step } from '../../src/steps/step.js';
import { addItems, makeWorker } from '../helpers/in-process-worker.js';
import { startRestartableMariadb, type RestartableMariadb } from '../helpers/local-mariadb.js';
import { waitFor } from '../helpers/processes.js';

const server = await startRestartableMariadb();
if (!server && process.env.CI === 'true') throw new Error('CI=true but mariadbd is not installed');

describe.skipIf(!server)('a transition during a database outage', () => {
  let mariadb: RestartableMariadb;
  let db: Db;
  beforeAll(async () => {
    mariadb = server!;
    const admin = connectDatabase(parseDatabaseUrl(mariadb.url));
    await admin.raw('CREATE DATABASE mw_outage');
    await admin.destroy();
    db = connectDatabase(parseDatabaseUrl(mariadb.url.replace(/\/mysql$/, '/mw_outage')));
    await migrateLatest(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await mariadb?.stop();
  });

  it('is retried until the database answers again, by the worker that holds the item', async () => {
    const [id] = await addItems(db, 1);
    let runs = 0;
    let finishStep: () => void = () => undefined;
    const slow: Step = {
      name: 'retrieve',
      run: () => {
        runs++;
        return new Promise((resolve) => (finishStep = () => resolve({ status: 'completed' })));
      },
    };
    const done = (name: Step['name']): Step => ({
      name,
      run: () => Promise.resolve({ status: 'completed' }),
    });
    const worker = makeWorker(db, [slow, done('analyse'), done('resize'), done('callback')], {
      leaseMs: 30_000,
    });
    const running = worker.run();
    await waitFor(() => runs === 1, 'the step to start');
    await mariadb.kill('SIGKILL');
    finishStep(); // its completion is written while the database is down
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await mariadb.restart();
    await running;
    expect(runs).toBe(1);
    const checklist = await findChecklist(db, id!);
    expect(checklist).toMatchObject({ state: 'completed', retrieve_file_attempts: 1 });
    const events = (await db('processing_events').where({ media_id: id }).pluck('event')) as string[];
    expect(events).not.toContain('retry_scheduled');
  });
});
