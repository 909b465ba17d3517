/**
 * A 429 from the main API holds back every call of this process, not just
 * the one that got it: until the Retry-After has passed, calls fail at once
 * with RATE_LIMIT (no request is sent), so a busy worker cannot keep
 * knocking. Consecutive 429s double the wait, so `Retry-After: 0` or a
 * missing header cannot turn into a request a second.
 */
import { RateLimitError } from '../errors.js';

const MAX_WAIT_MS = 600_000;

const DEFAULT_RETRY_AFTER_MS = 30_000;
const MIN_RETRY_AFTER_MS = 1000;
const MAX_RETRY_AFTER_MS = 600_000;

/** Retry-After as seconds or an HTTP date; missing, negative or unreadable values mean the default. */
export function retryAfterMs(header: unknown, now = Date.now()): number {
  if (typeof header !== 'string' || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const value = header.trim();
  const ms = /^\d+$/.test(value)
    ? Number(value) * 1000
    : /[a-z]/i.test(value)
      ? Date.parse(value) - now
      : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, ms));
}

export class MainApiRateLimit {
  private until = 0;
  private lastWaitMs = 0;

  /** Records a 429 asking for `retryAfterMs`; returns the wait actually imposed. */
  limited(retryAfterMs: number, now = Date.now()): number {
    const consecutive = this.lastWaitMs > 0 && now <= this.until + this.lastWaitMs;
    const waitMs = Math.min(MAX_WAIT_MS, Math.max(retryAfterMs, consecutive ? this.lastWaitMs * 2 : 0));
    this.lastWaitMs = waitMs;
    this.until = now + waitMs;
    return waitMs;
  }

  /** An answer that was not a 429: the main API is taking calls again. */
  answered(): void {
    this.lastWaitMs = 0;
  }

  /** Until when calls are held back (0: they are not). */
  closedUntilMs(now = Date.now()): number {
    return now < this.until ? this.until : 0;
  }

  assertOpen(what: string, now = Date.now()): void {
    if (now < this.until)
      throw new RateLimitError(`the main API asked us to wait before ${what} (429)`, this.until - now);
  }
}
