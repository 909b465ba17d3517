/**
 * Chaos 5: hostile uploads mixed into real ones (hostile-inputs.ts lists
 * them). None may crash a worker, blow its memory, or hold up the good
 * uploads; each bad one fails as INVALID_INPUT with exactly one cleanup.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbMissing } from './chaos-env.js';
import { ChaosRun } from './chaos-run.js';
import { readMemoryKb } from './cluster.js';
import { hostileUploads } from './hostile-inputs.js';
import { goodUploads } from './uploads.js';

const GOOD = 30;
/** Generous: a worker decoding at most IMAGE_MEMORY_MB at a time should stay far below. */
const PEAK_RSS_LIMIT_MB = 1024;

describe.skipIf(mariadbMissing())('chaos 5: hostile inputs', () => {
  let run: ChaosRun | undefined;
  afterAll(async () => run?.dispose());

  it('bombs, lies and garbage fail as INVALID_INPUT with one cleanup each; the good uploads all complete', async () => {
    run = await ChaosRun.create({ scenario: 'hostile-inputs' });
    const r = run;
    const good = await goodUploads(GOOD, 5001, 0.7);
    const hostile = await hostileUploads(5101);
    // Interleaved, so the bad ones sit among the good ones in the queue.
    const mixed = good.flatMap((upload, i) => (hostile[i] ? [hostile[i], upload] : [upload]));
    r.add([...mixed, ...hostile.slice(good.length)]);
    await r.cluster.add('w1');
    await r.cluster.add('w2');
    await r.waitSettled(180_000);
    await r.waitForMorePolls(3);

    const peaks: Record<string, number> = {};
    for (const name of r.cluster.live()) {
      const memory = readMemoryKb(r.cluster.current(name)!.pid);
      peaks[name] = Math.round((memory?.hwm ?? 0) / 1024);
      if (peaks[name] > PEAK_RSS_LIMIT_MB)
        r.note('memory', `${name}: peak RSS (VmHWM) ${peaks[name]} MB, over ${PEAK_RSS_LIMIT_MB} MB`);
    }
    const { violations, message } = await r.finish({
      exactCounters: true,
      figures: { good: good.length, hostile: hostile.length, peakRssMbByWorker: peaks },
    });
    expect(violations.length, message).toBe(0);
  });
});
