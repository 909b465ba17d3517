/**
 * An attempt's CPU figure is process CPU, so it is given only for an attempt
 * nothing overlapped; and a step's cost sums its attempts, CPU exactly or not at all.
 */
import { describe, expect, it } from 'vitest';
import { attemptCost } from '../../src/db/attempt-cost.js';
import type { EventRecord } from '../../src/db/item-detail.js';
import { itemCost, stepCost } from '../../src/db/step-cost.js';
import { startAttemptMeter } from '../../src/queue/attempt-meter.js';

/** Real CPU work, long enough to be measured. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  expect(x).toBeGreaterThan(0);
}

describe('startAttemptMeter', () => {
  it('measures an attempt that ran alone: wall and CPU seconds', () => {
    const meter = startAttemptMeter();
    burn(30);
    const times = meter.stop();
    expect(times.wall_seconds).toBeGreaterThanOrEqual(0.029);
    expect(times.cpu_seconds).toBeGreaterThan(0.01);
  });

  it('gives no CPU figure to attempts that overlapped, whichever started first', () => {
    const first = startAttemptMeter();
    const second = startAttemptMeter();
    burn(5);
    expect(second.stop().cpu_seconds).toBeNull();
    // The second one has ended, but it ran during the first.
    burn(5);
    expect(first.stop().cpu_seconds).toBeNull();
    const after = startAttemptMeter();
    burn(5);
    expect(after.stop().cpu_seconds).toBeTypeOf('number');
  });
});

describe('stepCost and itemCost', () => {
  const event = (id: number, attempt: number, name: string, cpu: number | null): EventRecord => ({
    id,
    media_id: 1,
    step: 'retrieve',
    event: name,
    attempt,
    worker_id: 'w',
    error_class: null,
    message: null,
    cost: attemptCost({ wall_seconds: 0.5, cpu_seconds: cpu }, { bytes_read: 10 * attempt }),
    at: id,
  });
  const started = (id: number, attempt: number): EventRecord => ({
    ...event(id, attempt, 'started', 0),
    cost: null,
  });

  it('sums the attempts, keeps the last alone, and is null for a step that never ran', () => {
    const cost = stepCost([
      started(1, 1),
      event(2, 1, 'retry_scheduled', 0.25),
      started(3, 2),
      event(4, 2, 'completed', 0.5),
    ]);
    expect(cost).toEqual({
      attempts: 2,
      wall_seconds: 1,
      cpu_seconds: 0.75,
      bytes_read: 30,
      bytes_written: 0,
      provider_calls: [],
      last: { ...event(4, 2, 'completed', 0.5).cost, attempt: 2, event: 'completed' },
    });
    expect(stepCost([])).toBeNull();
    expect(stepCost([started(1, 1)])).toBeNull();
    expect(itemCost([cost, null])).toEqual({
      wall_seconds: 1,
      cpu_seconds: 0.75,
      bytes_read: 30,
      bytes_written: 0,
      provider_call_count: 0,
    });
    expect(itemCost([null, null])).toBeNull();
  });

  it('has no CPU sum when one attempt had no CPU figure', () => {
    const cost = stepCost([event(2, 1, 'retry_scheduled', null), event(4, 2, 'completed', 0.5)])!;
    expect(cost.cpu_seconds).toBeNull();
    expect(cost.last.cpu_seconds).toBe(0.5);
    expect(itemCost([cost])!.cpu_seconds).toBeNull();
  });
});
