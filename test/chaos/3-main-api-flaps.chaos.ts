/**
 * Chaos 3: the main API flaps. Files answer 500, 429 with every kind of
 * Retry-After (valid, absent, "-5", "0", "soon"), stall 10 s before their
 * headers, reset mid-body, or trickle a byte every 2 s; the pending list
 * fails, stalls, and comes back empty for a few polls; POST complete answers
 * 400, 422 and 404 for a while; then everything answers 401 for a few
 * seconds. Every good upload must still be delivered exactly once, every bad
 * one cleaned up exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Fault } from '../helpers/fake-main-api.js';
import { CHAOS_KEY, mariadbMissing, sleep, waitUntil } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { goneUploads, goodUploads, tempPath, type ChaosUpload } from './uploads.js';

/** Per-file faults for the first uploads of batch A, in order. */
const FILE_FAULTS: Array<[Fault, number]> = [
  ['500', 2],
  ['500', 2],
  ['reset', 1],
  ['reset', 1],
  ['drop', 1],
  ['trickle', 1],
  ['trickle', 1],
  ['stall', 1],
  ['stall', 1],
  ['429-none', 1],
  ['429:-5', 1],
  ['429:0', 1],
  ['429:soon', 1],
  ['429:2', 1],
  ['429', 1],
];

function htmlUpload(id: number): ChaosUpload {
  return {
    id,
    label: 'HTML named .jpg',
    imagePath: tempPath(id, 'profile', 'jpg'),
    file: Buffer.from('<!doctype html><p>not an image</p>'),
    expect: 'INVALID_INPUT',
  };
}

describe.skipIf(mariadbMissing())('chaos 3: the main API flaps', () => {
  let run: ChaosRun | undefined;
  afterAll(async () => run?.dispose());

  it('every upload is delivered or cleaned up exactly once through 5xx, 429s, stalls, resets, trickles, an empty list, 4xx completes and a 401 period', async () => {
    run = await ChaosRun.create({ scenario: 'main-api-flaps' });
    const r = run;
    const { api } = r;
    api.stallMs = 10_000;
    api.trickleMs = 2000;
    const batchA = [...(await goodUploads(22, 3001, 0.6)), ...goneUploads(2, 3101), htmlUpload(3103)];
    const batchB = await goodUploads(20, 3201, 0.6);
    FILE_FAULTS.forEach(([fault, times], i) => {
      const path = batchA[i]!.imagePath;
      api.faults.push({
        method: 'GET',
        path: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
        fault,
        times,
      });
      batchA[i]!.label += ` [file fault ${fault}×${times}]`;
    });
    api.faults.push(
      { method: 'GET', path: /^\/api\/media\/pending\/all$/, fault: '500', times: 2 },
      { method: 'GET', path: /^\/api\/media\/pending\/all$/, fault: '429:1', times: 1 },
      { method: 'GET', path: /^\/api\/media\/pending\/all$/, fault: 'stall', times: 1 },
      { method: 'POST', path: /^\/api\/media\/complete\//, fault: '500', times: 2 },
      { method: 'POST', path: /^\/api\/media\/complete\//, fault: 'stall', times: 1 },
      { method: 'DELETE', path: /^\/api\/media\/cleanup\//, fault: '500', times: 2 },
    );
    r.add(batchA);
    await r.cluster.add('w1');
    await r.cluster.add('w2');

    // From the start, POST complete answers 400, then 422, then 404, each until it was answered twice.
    const forced: Record<number, number> = {};
    for (const status of [400, 422, 404]) {
      api.completeStatus = status;
      const from = api.requests.length;
      const answered = () =>
        api.requests.slice(from).filter((q) => q.method === 'POST' && q.status === status).length;
      await waitUntil(() => answered() >= 2, `2 POST complete answered with the forced ${status}`, 60_000);
      forced[status] = answered();
    }
    api.completeStatus = undefined;

    // New uploads are imported, then the pending list comes back empty for 4 polls.
    r.add(batchB);
    await waitUntil(
      async () =>
        Number(
          (
            (await r
              .db('media_files')
              .whereIn(
                'main_api_id',
                batchB.map((u) => u.id),
              )
              .count({ n: '*' })
              .first()) as { n: number | string } | undefined
          )?.n ?? 0,
        ) === batchB.length,
      `all ${batchB.length} uploads of batch B imported`,
      30_000,
    );
    const queuedAtEmpty = (await r.countByStatus()).pending ?? 0;
    api.emptyPendingList = true;
    const pollsBefore = r.pendingPolls();
    await waitUntil(() => r.pendingPolls() >= pollsBefore + 4, '4 polls of the empty pending list', 30_000);
    api.emptyPendingList = false;

    // A 401 period: every call is refused; /readyz must say so.
    const refuseAll = { path: /./, fault: '401' as const, times: Number.POSITIVE_INFINITY };
    api.faults.unshift(refuseAll);
    const refusedFrom = api.requests.length;
    await waitUntil(
      () => api.requests.slice(refusedFrom).some((q) => q.status === 401),
      'a request answered 401',
      20_000,
    );
    // Which worker got the 401 is unknown; it is paused for 60 s, so it must be answering not-ready now.
    const readiness = await Promise.all(
      r.cluster.live().map(async (name) => {
        const response = await fetch(`http://127.0.0.1:${r.cluster.port(name)}/readyz`);
        const body = (await response.json()) as { checks?: { mainApi?: { ok: boolean } } };
        return { name, status: response.status, mainApiOk: body.checks?.mainApi?.ok, body };
      }),
    );
    if (!readiness.some((answer) => answer.status === 503 && answer.mainApiOk === false))
      r.note('readyz', `after a 401, no worker's /readyz names the main API: ${JSON.stringify(readiness)}`);
    await sleep(3000);
    api.faults.splice(api.faults.indexOf(refuseAll), 1);
    const refused = api.requests.slice(refusedFrom).filter((q) => q.status === 401).length;

    // The auth pause (60 s) passes, then everything must settle. The budget is the sum of the
    // waits the worker is asked to honour, in the worst order: the auth pause (60 s), each
    // process's 429 holds (30 s by default, doubled while 429s come back to back: 30 + 60 + 120 s),
    // and a failure report refused with 500 and retried a minute later, plus the work itself.
    // 200 s was measured too tight once (two failures reported at +186 s, their retry due at +246 s).
    await r.waitSettled(420_000);
    await r.waitForMorePolls(3);
    for (const request of api.requests)
      if (request.headers.authorization !== `Bearer ${CHAOS_KEY}`)
        r.note('auth', `${request.method} ${request.url} sent without the key`);
    const faults: Record<string, number> = {};
    for (const request of api.requests)
      if (request.fault) faults[request.fault] = (faults[request.fault] ?? 0) + 1;
    const { violations, message } = await r.finish({
      figures: {
        faultsAnswered: faults,
        forcedCompleteAnswers: forced,
        queuedAtEmptyList: queuedAtEmpty,
        refused401: refused,
      },
    });
    expect(violations.length, message).toBe(0);
  });
});
