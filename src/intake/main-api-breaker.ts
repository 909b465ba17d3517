/**
 * A circuit breaker for the main API: after a few calls in a row fail the
 * way an outage does (5xx, refused, reset, timed out), every call of this
 * process is held back for a while (2 s, doubling to 60 s) with RATE_LIMIT,
 * which gives items back without using their attempts. When the wait is
 * over calls go through again: one answer closes the breaker, one more
 * failure opens it again for twice as long. Without this a ten-
 * second outage used up the attempts of the whole queue, and the heal cycle
 * then needed hours to bring it back.
 */
import { RateLimitError, TransientError } from '../errors.js';
import type { Logger } from '../log.js';

/** Consecutive outage-like failures that open the breaker. */
const THRESHOLD = 3;
const FIRST_WAIT_MS = 2000;
const MAX_WAIT_MS = 60_000;

export class MainApiBreaker {
  private failures = 0;
  private openUntil = 0;
  private lastReason = '';

  constructor(private readonly log: Logger | undefined) {}

  /**
   * A call failed as an outage does. Returns the error to throw: TRANSIENT
   * (the item's attempt counts) until the breaker opens, then RATE_LIMIT, so
   * that the call that opens it and every failed probe after it cost nobody
   * an attempt.
   */
  failed(reason: string, now = Date.now()): TransientError | RateLimitError {
    this.failures++;
    this.lastReason = reason;
    if (this.failures < THRESHOLD) return new TransientError(reason);
    const waitMs = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (this.failures - THRESHOLD));
    this.openUntil = now + waitMs;
    this.log?.warn(
      { failures: this.failures, waitMs, err: reason },
      'the main API is failing: holding its calls back (no attempts are used meanwhile)',
    );
    return new RateLimitError(`${reason}; the main API failed ${this.failures} calls in a row`, waitMs);
  }

  /** A call got an answer the main API really gave. */
  answered(): void {
    if (this.failures >= THRESHOLD) this.log?.info({ failures: this.failures }, 'the main API answers again');
    this.failures = 0;
    this.openUntil = 0;
  }

  /** Until when calls are held back (0: they are not). */
  openUntilMs(now = Date.now()): number {
    return now < this.openUntil ? this.openUntil : 0;
  }

  assertClosed(what: string, now = Date.now()): void {
    if (now < this.openUntil)
      throw new RateLimitError(
        `held back ${what}: the main API failed ${this.failures} calls in a row (last: ${this.lastReason})`,
        this.openUntil - now,
      );
  }
}
