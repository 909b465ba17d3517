/**
 * A download's total deadline, and the caller's abort (shutdown, a lost
 * lease), on one signal. Before the answer arrives they abort the request;
 * afterwards they destroy the body, so the reader fails with the reason
 * (a TRANSIENT error naming DOWNLOAD_DEADLINE_MS) and the socket is closed.
 */
import type { Readable } from 'node:stream';
import { TransientError } from '../errors.js';

export class DownloadDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private body: Readable | undefined;
  private readonly onAbort = () => this.stop(this.caller?.reason ?? new TransientError('download aborted'));

  constructor(
    private readonly ms: number,
    private readonly imagePath: string,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => this.stop(this.expired()), ms);
    this.timer.unref();
    caller?.addEventListener('abort', this.onAbort, { once: true });
    if (caller?.aborted) this.onAbort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  watch(body: Readable): void {
    this.body = body;
    body.once('close', () => this.clear());
  }

  clear(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onAbort);
  }

  /** Why the download was stopped, when it was. */
  reason(): unknown {
    return this.controller.signal.aborted ? this.controller.signal.reason : undefined;
  }

  private expired(): TransientError {
    return new TransientError(
      `downloading ${this.imagePath} took longer than DOWNLOAD_DEADLINE_MS=${this.ms}; will retry`,
    );
  }

  private stop(reason: unknown): void {
    if (this.body) this.body.destroy(reason instanceof Error ? reason : new TransientError(String(reason)));
    else this.controller.abort(reason);
    this.clear();
  }
}
