/**
 * The main API refusing our key (401/403) is an operator problem, not an
 * item problem: all main API traffic pauses, the error is logged at most
 * once a minute, /readyz fails, and no attempts are burnt. After the pause
 * all calls are let through again (not just one) to find out whether the key
 * works again; another refusal starts a new pause.
 *
 * Only an answer to a request sent after the refusal can lift the pause:
 * calls already in flight when the 401 came (a 429 arriving 15 ms later, say)
 * say nothing about the key as it is now. And only an answer the main API
 * really processed counts (not a 429 or a 5xx, which a proxy may give
 * without looking at the key).
 */
import { AuthError } from '../errors.js';
import type { Logger } from '../log.js';

export class MainApiAuthState {
  private problem: string | undefined;
  private refusedAt = 0;
  private pausedUntil = 0;
  private lastLoggedAt = 0;

  constructor(
    private readonly log: Logger,
    readonly pauseMs = 60_000,
  ) {}

  refused(status: number, what: string, now = Date.now()): AuthError {
    this.problem = `the main API answered ${status} to ${what}: check MEDIA_API_KEY`;
    this.refusedAt = now;
    this.pausedUntil = now + this.pauseMs;
    if (now - this.lastLoggedAt >= 60_000) {
      this.lastLoggedAt = now;
      this.log.error({ status }, `${this.problem}; main API traffic paused`);
    }
    return new AuthError(this.problem);
  }

  /** The main API processed a request sent at `sentAt` with our key. */
  accepted(sentAt: number): void {
    if (!this.problem || sentAt <= this.refusedAt) return;
    this.log.info('the main API accepts our key again; traffic resumed');
    this.problem = undefined;
    this.pausedUntil = 0;
  }

  /** Throws instead of calling a main API that refused our key less than a pause ago. */
  assertNotPaused(now = Date.now()): void {
    if (this.problem && now < this.pausedUntil) throw new AuthError(`${this.problem} (paused)`);
  }

  /** Until when calls are refused without being sent (0: they are not). */
  pausedUntilMs(now = Date.now()): number {
    return this.problem && now < this.pausedUntil ? this.pausedUntil : 0;
  }

  currentProblem(): string | undefined {
    return this.problem;
  }
}
