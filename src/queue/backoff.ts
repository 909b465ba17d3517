/**
 * Exponential backoff with jitter. Half of the delay is fixed and half random
 * ("equal jitter"): the random half spreads a herd of retries apart, and the
 * fixed half guarantees the delay really grows, which pure full jitter does
 * not (it can draw zero and turn a poison item into a hot loop).
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long a transiently failed item waits before the heal cycle may re-queue it again. */
export function healDelayMs(healCount: number, healIntervalMs: number): number {
  return Math.min(DAY_MS, healIntervalMs * 2 ** healCount);
}
