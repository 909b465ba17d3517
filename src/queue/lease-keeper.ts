/**
 * Heartbeat for in-flight items: every third of a lease, push the leases of
 * everything we hold forward, and abort items we no longer hold (taken over
 * or requeued). If the database cannot be reached for a whole lease, our
 * leases may have been taken over: abort everything rather than run on.
 */
import { LeaseLostError } from '../errors.js';
import { extendLeases } from '../db/claim-items.js';
import type { Db } from '../db/connect.js';
import { touchWorker } from '../db/workers.js';
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';

export interface HeldItem {
  readonly mediaId: number;
  readonly claimToken: string;
  readonly controller: AbortController;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private lastExtendedAt = Date.now();
  private beating: Promise<void> | undefined;
  private readonly problem: RepeatedProblem;

  constructor(
    private readonly db: Db,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly held: () => Iterable<HeldItem>,
    log: Logger,
  ) {
    this.problem = new RepeatedProblem(log, 'could not extend leases');
  }

  start(): void {
    this.timer = setInterval(
      () => {
        this.beating ??= this.beat().finally(() => (this.beating = undefined));
      },
      Math.floor(this.leaseMs / 3),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }

  async beat(): Promise<void> {
    const items = [...this.held()];
    try {
      const stillHeld = await extendLeases(
        this.db,
        [...new Set(items.map((i) => i.claimToken))],
        this.leaseMs,
      );
      this.lastExtendedAt = Date.now();
      for (const item of items) {
        if (!stillHeld.has(item.mediaId)) {
          item.controller.abort(
            new LeaseLostError(`item ${item.mediaId} is no longer held by ${this.workerId}`),
          );
        }
      }
      await touchWorker(this.db, this.workerId);
      this.problem.resolved('leases extended again');
    } catch (error) {
      this.problem.report(error, { held: items.length });
      if (items.length > 0 && Date.now() - this.lastExtendedAt >= this.leaseMs) {
        for (const item of items)
          item.controller.abort(new LeaseLostError('leases expired while the database was unreachable'));
      }
    }
  }
}
