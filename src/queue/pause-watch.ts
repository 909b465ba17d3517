/**
 * A worker's view of the fleet-wide pause (db/fleet-pause.ts): read from the
 * database at most once per poll interval, so a pause given anywhere stops
 * this worker's claims within one poll. Pausing and resuming are logged once
 * each, when noticed.
 */
import type { Db } from '../db/connect.js';
import { readPauseState, type PauseState } from '../db/fleet-pause.js';
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';

export class PauseWatch {
  private last: PauseState | undefined;
  private readAt = 0;
  private readonly readProblem: RepeatedProblem;

  constructor(
    private readonly db: Db,
    private readonly maxAgeMs: number,
    private readonly log: Logger,
  ) {
    this.readProblem = new RepeatedProblem(
      log,
      'could not read the fleet pause; keeping the last known state',
    );
  }

  /**
   * True while the fleet is paused. When the database does not answer, the
   * last known state holds (claims would fail then anyway); never read, it is
   * "not paused", so a schema without the pause (a rolling upgrade) works on.
   */
  async isPaused(now = Date.now()): Promise<boolean> {
    if (this.last && now - this.readAt < this.maxAgeMs) return this.last.paused;
    try {
      const state = await readPauseState(this.db);
      this.readProblem.resolved('the fleet pause can be read again');
      this.notice(state);
      this.last = state;
      this.readAt = now;
    } catch (error) {
      this.readProblem.report(error);
    }
    return this.last?.paused ?? false;
  }

  private notice(state: PauseState): void {
    const was = this.last?.paused ?? false;
    if (state.paused && !was)
      this.log.warn(
        { pausedBy: state.pausedBy, pausedAt: state.pausedAt, reason: state.reason },
        'the fleet is paused: claiming nothing until it is resumed (items in flight finish)',
      );
    else if (!state.paused && was) this.log.info('the fleet was resumed: claiming again');
  }
}
