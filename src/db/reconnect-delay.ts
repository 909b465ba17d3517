/**
 * How long to wait before trying the database again while it does not
 * answer: 1 s, doubling to 30 s, with a little jitter so that a fleet of
 * workers does not reconnect in lockstep when the server comes back.
 */
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 30_000;

export class ReconnectDelay {
  private attempt = 0;

  constructor(
    private readonly minMs = RECONNECT_MIN_MS,
    private readonly maxMs = RECONNECT_MAX_MS,
  ) {}

  /** The next wait: longer each call, up to the cap. */
  next(random: () => number = Math.random): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt++;
    return Math.round(ceiling * (0.8 + 0.2 * random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
