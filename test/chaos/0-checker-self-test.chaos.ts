/**
 * The invariant checker must see what it is there to see: after a clean
 * run it reports nothing; after each kind of damage done by hand (a variant
 * deleted, one cut short, a second accepted completion, a cleanup of a
 * completed upload, a completed row marked failed, a stale claim, queue
 * gauges that disagree) it names the upload and the broken invariant.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbMissing } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { checkFiles, checkLeases, checkUploads } from './invariants.js';
import { checkMetrics, parseMetrics } from './metrics-check.js';
import { takeSnapshot } from './snapshot.js';
import { goodUploads } from './uploads.js';

describe.skipIf(mariadbMissing())('chaos 0: the invariant checker', () => {
  let run: ChaosRun | undefined;
  afterAll(async () => run?.dispose());

  it('reports nothing after a clean run and every kind of damage done by hand', async () => {
    run = await ChaosRun.create({ scenario: 'checker-self-test' });
    const r = run;
    const uploads = await goodUploads(8, 9001, 0.5);
    r.add(uploads);
    await r.cluster.add('w1');
    await r.waitSettled(90_000);
    expect(await r.cluster.stopAll()).toEqual([]);

    const check = async () => {
      const snapshot = await takeSnapshot(r.db);
      const rows = checkUploads(r.uploads, snapshot, r.api, r.t0);
      const files = await checkFiles(r.uploads, snapshot, { storageDir: r.storageDir, fullDecodeItems: 100 });
      return {
        snapshot,
        tally: rows.tally,
        all: [...rows.violations, ...files.violations, ...checkLeases(snapshot, 5000)],
      };
    };
    const clean = await check();
    expect(clean.all).toEqual([]);
    expect(clean.tally).toEqual({ completed: 8, failed: 0, lost: 0, doubled: 0 });

    const [a, b, , , e, f] = uploads.map((u) => clean.snapshot.byMainApiId.get(u.id)!);
    const variantOf = (media: typeof a) => clean.snapshot.variants.get(media!.id)![0]!;
    fs.rmSync(path.join(r.storageDir, variantOf(a).path));
    const cut = path.join(r.storageDir, variantOf(b).path);
    fs.writeFileSync(cut, fs.readFileSync(cut).subarray(0, 100));
    const post = r.api.calls('POST', new RegExp(`/complete/${uploads[2]!.id}$`))[0]!;
    r.api.requests.push({ ...post, at: Date.now(), status: 200 });
    r.api.requests.push({
      method: 'DELETE',
      url: `/api/media/cleanup/${uploads[3]!.id}`,
      headers: {},
      body: '',
      at: Date.now(),
      status: 200,
    });
    await r.db('media_files').where({ id: e!.id }).update({ status: 'failed' });
    await r
      .db('processing_checklist')
      .where({ media_id: f!.id })
      .update({ claim_token: 'stale', worker_id: 'gone', lease_expires_at: Date.now() - 60_000 });

    const damaged = await check();
    const about = (id: number) =>
      damaged.all
        .filter((v) => v.mainApiId === id)
        .map((v) => v.detail)
        .join('\n');
    expect(about(uploads[0]!.id)).toMatch(/is missing/);
    expect(about(uploads[1]!.id)).toMatch(/has 100 bytes, row says/);
    expect(about(uploads[2]!.id)).toMatch(/2 accepted POST complete/);
    expect(about(uploads[3]!.id)).toMatch(/completed, yet 1 DELETE cleanup/);
    expect(about(uploads[4]!.id)).toMatch(/unsettled: media status failed/);
    expect(about(uploads[5]!.id)).toMatch(/still carries a claim/);
    expect(damaged.all.some((v) => v.invariant === 'lease' && v.detail.includes('held by gone'))).toBe(true);
    expect(damaged.tally).toMatchObject({ lost: 1, doubled: 2 });

    const gauges = parseMetrics(
      'media_worker_queue_items{status="completed"} 8\nmedia_worker_oldest_pending_age_seconds 0\n',
    );
    const metrics = checkMetrics([{ slot: 'w1', samples: gauges }], damaged.snapshot, false);
    expect(metrics.map((v) => v.detail).join('\n')).toMatch(
      /queue_items\{status="completed"\} is 8, the database has 7/,
    );
  });
});
