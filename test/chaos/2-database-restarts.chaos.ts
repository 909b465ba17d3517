/**
 * Chaos 2: MariaDB (a throwaway mariadbd of this scenario's own) is stopped
 * cleanly (SIGTERM) and started again mid-run, then crashed (SIGKILL), and a
 * third worker is started while it is down. The workers must ride it out
 * without restarting: no process may exit on its own, and everything settles
 * once the database is back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startRestartableMariadb, type RestartableMariadb } from '../helpers/local-mariadb.js';
import { mariadbMissing, sleep, waitUntil } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { goodUploads } from './uploads.js';

const BATCH = 16;
const DOWN_MS = 6000;

describe.skipIf(mariadbMissing())('chaos 2: the database goes away and comes back', () => {
  let run: ChaosRun | undefined;
  let server: RestartableMariadb | undefined;
  afterAll(async () => {
    await run?.dispose().catch(() => undefined);
    await server?.stop();
  });

  it(`${3 * BATCH} uploads survive a clean stop and a crash of MariaDB; no worker exits`, async () => {
    server = await startRestartableMariadb();
    if (!server) throw new Error('mariadbd is not installed: the scenario needs its own server');
    const db = server;
    run = await ChaosRun.create({ scenario: 'database-restarts', serverUrl: db.url });
    const r = run;
    const batches = await Promise.all([0, 1, 2].map((b) => goodUploads(BATCH, 2001 + b * BATCH)));
    const done = async () => (await r.countByStatus()).completed ?? 0;
    r.add(batches[0]!);
    await r.cluster.add('w1');
    await r.cluster.add('w2');
    await waitUntil(async () => (await done()) >= 4, '4 uploads completed before the first stop', 90_000);

    // 1. A clean shutdown mid-run; new uploads appear while the database is down.
    await db.kill('SIGTERM');
    r.add(batches[1]!);
    await sleep(DOWN_MS);
    await db.restart();
    const beforeCrash = await done();
    await waitUntil(
      async () => (await done()) >= beforeCrash + 4,
      '4 more uploads completed after the restart',
      90_000,
    );

    // 2. A crash; a third worker starts while the database is down.
    await db.kill('SIGKILL');
    r.add(batches[2]!);
    await r.cluster.add('w3');
    await sleep(DOWN_MS);
    await db.restart();
    await r.waitSettled(150_000);
    await r.waitForMorePolls(3);

    const { violations, message } = await r.finish({
      figures: { databaseStops: 1, databaseCrashes: 1, databaseDownSeconds: (2 * DOWN_MS) / 1000 },
    });
    expect(violations.length, message).toBe(0);
  });
});
