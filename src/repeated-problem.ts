/**
 * A problem that repeats while it lasts (the database is down, a disk is
 * unwritable): logged once when it starts, then at most once per interval
 * with the number of failures since the last line, and once when it clears.
 * An outage of an hour is then ~120 lines, not thousands of stack traces.
 */
import type { Logger } from './log.js';

/** How often a lasting problem is logged again while it lasts. */
export const PROBLEM_LOG_INTERVAL_MS = 30_000;

export class RepeatedProblem {
  private startedAt: number | undefined;
  private lastLoggedAt = 0;
  private failures = 0;
  private unlogged = 0;

  constructor(
    private readonly log: Logger,
    /** What failed, as the log message: "claim failed; will try again". */
    private readonly message: string,
    private readonly intervalMs = PROBLEM_LOG_INTERVAL_MS,
  ) {}

  get active(): boolean {
    return this.startedAt !== undefined;
  }

  /** Records one failure; logs it when the problem is new or the interval has passed since the last line. */
  report(error: unknown, fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    this.startedAt ??= now;
    this.failures++;
    this.unlogged++;
    if (this.failures > 1 && now - this.lastLoggedAt < this.intervalMs) return;
    this.log.warn(
      {
        ...fields,
        err: firstLine(error),
        failures: this.failures,
        failuresSinceLastLog: this.unlogged,
        sinceMs: now - this.startedAt,
      },
      this.message,
    );
    this.lastLoggedAt = now;
    this.unlogged = 0;
  }

  /** The operation worked again: one line saying how long the problem lasted, then quiet. */
  resolved(recoveredMessage = `${this.message}: working again`): void {
    if (this.startedAt === undefined) return;
    this.log.info({ failures: this.failures, lastedMs: Date.now() - this.startedAt }, recoveredMessage);
    this.startedAt = undefined;
    this.failures = 0;
    this.unlogged = 0;
  }
}

/** An error's message without its stack, on one line. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').trim();
}
