/**
 * What keeps a paid provider within bounds in this process: at most
 * `concurrency` calls at once (the others wait, abortably, for a slot), and
 * its warnings (paused, over budget, dropped answer fields) logged at most
 * once a minute each, so a paused provider does not log once per upload.
 */
import type { Logger } from '../log.js';

export const WARNING_INTERVAL_MS = 60_000;

export class ProviderGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly warnedAt = new Map<string, number>();

  constructor(
    readonly concurrency: number,
    private readonly log: Logger,
  ) {}

  /** Runs `call` once a slot is free; a signal aborted while waiting gives the wait up. */
  async run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await call();
    } finally {
      this.release();
    }
  }

  /** Logs `message` unless the same key was logged within the last minute. */
  warn(key: string, fields: Record<string, unknown>, message: string, now = Date.now()): void {
    const last = this.warnedAt.get(key);
    if (last !== undefined && now - last < WARNING_INTERVAL_MS) return;
    // Bounded: keys come from a fixed set of reasons plus capped field names.
    if (this.warnedAt.size > 1000) this.warnedAt.clear();
    this.warnedAt.set(key, now);
    this.log.warn(fields, message);
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const granted = () => {
        signal?.removeEventListener('abort', aborted);
        this.running++;
        resolve();
      };
      const aborted = () => {
        this.waiting.splice(this.waiting.indexOf(granted), 1);
        reject(signal!.reason as Error);
      };
      this.waiting.push(granted);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
