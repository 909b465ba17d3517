/**
 * Chaos 6: 2,000 tiny uploads appear at once. All complete, memory stays
 * steady (peak bounded, no growth from the first half of the run to the
 * second), and the pending list is polled by the clock, not once per item.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbMissing } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import type { Incarnation } from './cluster.js';
import { tinyUploads } from './uploads.js';

const UPLOADS = 2000;
const POLL_MS = 500;
const PEAK_RSS_LIMIT_MB = 768;
/** RSS may grow this much from the first half of the run to the second (caches warming up, not a leak). */
const GROWTH_LIMIT_MB = 120;

function halves(incarnation: Incarnation): { first: number; second: number } {
  const samples = incarnation.rssSamplesKb;
  const middle = Math.floor(samples.length / 2);
  const max = (list: typeof samples) => Math.round(Math.max(0, ...list.map((s) => s.kb)) / 1024);
  // The first quarter is start-up (libvips, the pool, JIT): compare the second quarter with the second half.
  return { first: max(samples.slice(Math.floor(middle / 2), middle)), second: max(samples.slice(middle)) };
}

describe.skipIf(mariadbMissing())('chaos 6: overload', () => {
  let run: ChaosRun | undefined;
  afterAll(async () => run?.dispose());

  it(`${UPLOADS} uploads at once: all complete, steady memory, polls bounded by the clock`, async () => {
    run = await ChaosRun.create({
      scenario: 'overload',
      env: { POLL_INTERVAL_MS: String(POLL_MS), IDLE_MAX_MS: '1000' },
    });
    const r = run;
    r.add(await tinyUploads(UPLOADS, 100_001));
    const startedAt = Date.now();
    await r.cluster.add('w1');
    await r.cluster.add('w2');
    await r.waitSettled(360_000);
    const elapsedMs = Date.now() - startedAt;
    const polls = r.pendingPolls();
    // Each process polls at most once per POLL_INTERVAL_MS (plus one at start).
    const pollBound = 2 * (Math.ceil(elapsedMs / POLL_MS) + 2);
    if (polls > pollBound)
      r.note(
        'polls',
        `${polls} pending-list GETs in ${Math.round(elapsedMs / 1000)} s, over the bound ${pollBound}`,
      );
    await r.waitForMorePolls(3);

    const memory: Record<string, { first: number; second: number; peak: number }> = {};
    for (const name of r.cluster.live()) {
      const incarnation = r.cluster.current(name)!;
      const { first, second } = halves(incarnation);
      const peak = Math.round(incarnation.peakRssKb / 1024);
      memory[name] = { first, second, peak };
      if (peak > PEAK_RSS_LIMIT_MB)
        r.note('memory', `${name}: peak RSS ${peak} MB, over ${PEAK_RSS_LIMIT_MB} MB`);
      if (second - first > GROWTH_LIMIT_MB)
        r.note(
          'memory',
          `${name}: RSS grew from ${first} MB to ${second} MB during the run (> ${GROWTH_LIMIT_MB} MB)`,
        );
    }
    const { violations, message } = await r.finish({
      exactCounters: true,
      fullDecodeItems: 150,
      figures: {
        drainSeconds: Math.round(elapsedMs / 1000),
        uploadsPerMinute: Math.round((UPLOADS / elapsedMs) * 60_000),
        pollBound,
        pollIntervalMs: POLL_MS,
        memoryMb: memory,
      },
    });
    expect(violations.length, message).toBe(0);
  }, 540_000);
});
