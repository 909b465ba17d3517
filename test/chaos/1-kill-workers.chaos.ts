/**
 * Chaos 1: a random worker is SIGKILLed every few seconds and restarted the
 * way systemd would (same WORKER_ID and port), while a bounded /serve load
 * runs against whichever process is alive. Nothing may be lost or reported
 * twice, and no completed item may ever answer 5xx.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbMissing, sleep } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { startServeHammer } from './serve-hammer.js';
import { goodUploads } from './uploads.js';

const UPLOADS = 60;
const MAX_KILLS = 12;
const MIN_LIFE_MS = 5000;

describe.skipIf(mariadbMissing())('chaos 1: workers SIGKILLed and restarted', () => {
  let run: ChaosRun | undefined;
  afterAll(async () => run?.dispose());

  it(`${UPLOADS} uploads survive a SIGKILL every few seconds; /serve never answers 5xx`, async () => {
    run = await ChaosRun.create({ scenario: 'kill-workers' });
    const r = run;
    r.add(await goodUploads(UPLOADS, 1001));
    await r.cluster.add('w1');
    await r.cluster.add('w2');

    let completedIds: number[] = [];
    let stopRefresh = false;
    const refresh = (async () => {
      while (!stopRefresh) {
        completedIds = await r.completedIds().catch(() => completedIds);
        await sleep(500);
      }
    })();
    const hammer = startServeHammer({
      ports: () => r.cluster.live().map((name) => r.cluster.port(name)),
      completedIds: () => completedIds,
      maxRequests: 30_000,
      maxMs: 150_000,
      concurrency: 4,
    });
    let served: Awaited<ReturnType<typeof hammer.stop>>;
    try {
      // Kill a random live worker every 2–4 s; restart it 0.3–1 s later, as Restart=on-failure would.
      let settled = false;
      const settling = r.waitSettled(180_000).finally(() => (settled = true));
      while (!settled && r.cluster.kills < MAX_KILLS) {
        await sleep(2000 + Math.random() * 2000);
        // Only incarnations up for MIN_LIFE_MS: under CI load a start-up can take seconds, and a
        // worker killed before it ever claims proves nothing (systemd, too, restarts 5 s apart).
        const live = r.cluster
          .live()
          .filter((name) => Date.now() - (r.cluster.current(name)?.startedAt ?? Date.now()) >= MIN_LIFE_MS);
        const victim = live[Math.floor(Math.random() * live.length)];
        if (settled || !victim) continue;
        await r.cluster.signal(victim, 'SIGKILL');
        await sleep(300 + Math.random() * 700);
        r.cluster.restart(victim);
      }
      await settling;
      await r.waitForMorePolls(3);
    } finally {
      stopRefresh = true;
      await refresh;
      served = await hammer.stop();
    }
    for (const failure of served.failures) r.note('serve', failure);

    const { violations, message } = await r.finish({
      figures: {
        serveRequests: served.requests,
        serveOk: served.ok,
        serveByStatus: served.byStatus,
        serveConnectionErrors: served.connectionErrors,
        serveFailures: served.failures.length,
      },
    });
    expect(r.cluster.kills, 'the scenario killed workers').toBeGreaterThan(0);
    expect(served.ok, 'the /serve load reached completed items').toBeGreaterThan(0);
    expect(violations.length, message).toBe(0);
  });
});
