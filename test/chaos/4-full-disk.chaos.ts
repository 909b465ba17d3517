/**
 * Chaos 4: STORAGE_DIR is a small tmpfs that a ballast file fills mid-run.
 * ENOSPC must be TRANSIENT: the workers keep running and serving what is
 * done, /readyz says why they are not ready, and everything finishes once
 * the ballast is deleted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbMissing, sleep, waitUntil } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { startServeHammer } from './serve-hammer.js';
import { fillDisk, freeBytes, mountTmpfs, tmpfsRefused, unmount } from './small-disk.js';
import { goodUploads } from './uploads.js';

const UPLOADS = 45;
const DISK_MB = 64;
const FULL_MIN_MS = 10_000;

function mountProblem(): string | undefined {
  if (mariadbMissing()) return 'no MariaDB';
  const refused = tmpfsRefused();
  if (!refused) return undefined;
  if (process.env.CI === 'true')
    throw new Error(
      `CI=true: the full-disk scenario needs a tmpfs mount and this machine refuses it: ${refused}`,
    );
  console.warn(`\n*** chaos 4 (full disk) skipped: ${refused} ***\n`);
  return refused;
}

interface Readiness {
  status: number;
  body: { checks?: Record<string, { ok: boolean; detail?: string }> };
}

async function readiness(port: number): Promise<Readiness> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

describe.skipIf(mountProblem())('chaos 4: the storage disk fills up', () => {
  let run: ChaosRun | undefined;
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-chaos-disk-'));
  afterAll(async () => {
    await run?.cluster?.dispose();
    unmount(mountPoint);
    fs.rmSync(mountPoint, { recursive: true, force: true });
    await run?.dispose();
  });

  it(`${UPLOADS} uploads finish after ENOSPC; workers keep serving and /readyz names the disk`, async () => {
    mountTmpfs(mountPoint, DISK_MB);
    run = await ChaosRun.create({ scenario: 'full-disk', storageDir: path.join(mountPoint, 'storage') });
    const r = run;
    r.add(await goodUploads(UPLOADS, 4001, 0.7));
    await r.cluster.add('w1');
    await r.cluster.add('w2');
    await waitUntil(
      async () => ((await r.countByStatus()).completed ?? 0) >= 8,
      '8 uploads completed before the disk fills',
      90_000,
    );

    const ballast = fillDisk(mountPoint);
    const filledAt = Date.now();
    const completedIds = await r.completedIds();
    const hammer = startServeHammer({
      ports: () => r.cluster.live().map((name) => r.cluster.port(name)),
      completedIds: () => completedIds,
      maxRequests: 3000,
      maxMs: 60_000,
      concurrency: 2,
    });
    let ready: Readiness[] = [];
    let enospcEvents = 0;
    try {
      await sleep(FULL_MIN_MS);
      await waitUntil(
        async () => {
          const rows = (await r
            .db('processing_events')
            .where('message', 'like', '%ENOSPC%')
            .select('error_class')) as Array<{ error_class: string | null }>;
          enospcEvents = rows.length;
          return rows.length >= 3;
        },
        '3 processing events naming ENOSPC while the disk is full',
        60_000,
      );
      ready = await Promise.all(r.cluster.live().map((name) => readiness(r.cluster.port(name))));
      const healthy = await fetch(`http://127.0.0.1:${r.cluster.port('w1')}/healthz`);
      if (healthy.status !== 200) r.note('healthz', `/healthz answered ${healthy.status} on a full disk`);
    } finally {
      fs.rmSync(ballast.file, { force: true });
    }
    const fullForMs = Date.now() - filledAt;
    const served = await hammer.stop();
    for (const failure of served.failures) r.note('serve', `while the disk was full: ${failure}`);
    if (served.ok === 0) r.note('serve', 'no completed item was served while the disk was full');
    for (const [i, answer] of ready.entries()) {
      const failing = Object.entries(answer.body.checks ?? {}).filter(([, c]) => !c.ok);
      const says = failing.map(([name, c]) => `${name}: ${c.detail ?? ''}`).join('; ');
      if (
        answer.status !== 503 ||
        !/disk|storage/.test(failing.map(([n]) => n).join(' ')) ||
        !/ENOSPC|space|full|%/i.test(says)
      )
        r.note(
          'readyz',
          `worker ${i + 1}: /readyz on a full disk answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
    }
    const misclassified = (await r
      .db('processing_events')
      .where('message', 'like', '%ENOSPC%')
      .whereNot('error_class', 'TRANSIENT')
      .select('media_id', 'step', 'error_class', 'message')) as Array<Record<string, unknown>>;
    for (const event of misclassified)
      r.note(
        'classification',
        `ENOSPC recorded as ${String(event.error_class)}, not TRANSIENT: ${JSON.stringify(event)}`,
      );

    await r.waitSettled(150_000);
    await r.waitForMorePolls(3);
    const { violations, message } = await r.finish({
      figures: {
        diskMb: DISK_MB,
        ballastMb: Math.round(ballast.bytes / 2 ** 20),
        fullForSeconds: Math.round(fullForMs / 1000),
        enospcEvents,
        freeMbAtEnd: Math.round(freeBytes(mountPoint) / 2 ** 20),
        serveWhileFull: served.byStatus,
        readyzWhileFull: ready.map((a) => a.status),
      },
    });
    expect(violations.length, message).toBe(0);
  });
});
