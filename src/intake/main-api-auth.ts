/**
 * The main API refusing our key (401/403) is an operator problem, not an
 * item problem: all main API traffic pauses, the error is logged at most
 * once a minute, /readyz fails, and no attempts are burnt. After the pause one
 * call is let through to find out whether the key works again.
 */
import { AuthError } from '../errors.js';
import type { Logger } from '../log.js';

export class MainApiAuthState {
  private problem: string | undefined;
  private pausedUntil = 0;
  private lastLoggedAt = 0;

  constructor(
    private readonly log: Logger,
    readonly pauseMs = 60_000,
  ) {}

  refused(status: number, what: string): AuthError {
    const now = Date.now();
    this.problem = `the main API answered ${status} to ${what}: check MEDIA_API_KEY`;
    this.pausedUntil = now + this.pauseMs;
    if (now - this.lastLoggedAt >= 60_000) {
      this.lastLoggedAt = now;
      this.log.error({ status }, `${this.problem}; main API traffic paused`);
    }
    return new AuthError(this.problem);
  }

  accepted(): void {
    if (this.problem) this.log.info('the main API accepts our key again; traffic resumed');
    this.problem = undefined;
    this.pausedUntil = 0;
  }

  /** Throws instead of calling a main API that refused our key less than a pause ago. */
  assertNotPaused(): void {
    if (this.problem && Date.now() < this.pausedUntil) throw new AuthError(`${this.problem} (paused)`);
  }

  currentProblem(): string | undefined {
    return this.problem;
  }
}
