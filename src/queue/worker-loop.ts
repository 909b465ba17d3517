/**
 * The worker loop (pg-boss style): claim up to the free concurrency, run each
 * claimed item in the background, and sleep when there is nothing to do —
 * exponentially longer while idle, cut short by wake() or a finished item.
 * stop() stops claiming, lets in-flight items finish within the grace period,
 * then aborts and releases what is left. While the fleet is paused
 * (pause-watch.ts) nothing is claimed; items in flight finish and the heal
 * cycle goes on (it only re-queues).
 */
import { claimItems, type ClaimedItem } from '../db/claim-items.js';
import type { Db } from '../db/connect.js';
import { healFailedItems } from '../db/heal-items.js';
import { markWorkerStopped, registerWorker } from '../db/workers.js';
import { ReconnectDelay } from '../db/reconnect-delay.js';
import { RepeatedProblem } from '../repeated-problem.js';
import { keepTrying } from './keep-trying.js';
import { LeaseKeeper, type HeldItem } from './lease-keeper.js';
import { PauseWatch } from './pause-watch.js';
import { runClaimedItem, type ItemOutcome, type ItemRunnerOptions } from './run-item.js';
import { Sleeper } from './sleeper.js';
import { queueOutlook } from '../db/queue-outlook.js';

/** Most batches of HEAL_BATCH one heal cycle re-queues. */
const MAX_HEAL_BATCHES = 50;

export interface WorkerLoopOptions extends ItemRunnerOptions {
  db: Db;
  version: string;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  idleMaxMs: number;
  healBatch: number;
  healMaxCount: number;
  healMaxAgeHours: number;
  shutdownGraceMs: number;
  /** Exit once the queue holds no queued item at all (`run --once`). */
  once?: boolean;
  onItemFinished?: (outcome: ItemOutcome, mediaId: number) => void;
  onClaimed?: (count: number) => void;
  onHealed?: (count: number) => void;
}

interface InFlight extends HeldItem {
  promise: Promise<void>;
}

export class WorkerLoop {
  private readonly inFlight = new Map<number, InFlight>();
  private readonly sleeper = new Sleeper();
  private readonly leases: LeaseKeeper;
  /** While claims fail (the database is down), the loop backs off 1 s → 30 s instead of spinning. */
  private readonly claimDelay = new ReconnectDelay();
  private readonly claimProblem: RepeatedProblem;
  private readonly pause: PauseWatch;
  private stopping = false;
  private idleDelayMs: number;
  private nextHealAt: number;

  constructor(private readonly options: WorkerLoopOptions) {
    this.idleDelayMs = options.pollIntervalMs;
    this.nextHealAt = Date.now() + options.healIntervalMs;
    this.claimProblem = new RepeatedProblem(options.log, 'claim failed; will try again');
    // Read at most once per poll: a pause given anywhere holds here within one poll interval.
    this.pause = new PauseWatch(options.db, options.pollIntervalMs, options.log);
    this.leases = new LeaseKeeper(
      options.db,
      options.workerId,
      options.leaseMs,
      () => this.inFlight.values(),
      options.log,
    );
  }

  /**
   * Runs until stop() (or, with `once`, until the queue is empty); resolves when every item is settled.
   * The database going away never ends it: registering and claiming are retried with backoff.
   */
  async run(): Promise<void> {
    const { db, workerId, version, concurrency, log } = this.options;
    const registered = await keepTrying(() => registerWorker(db, workerId, version, concurrency), {
      sleeper: this.sleeper,
      isStopping: () => this.stopping,
      problem: new RepeatedProblem(log, 'could not register the worker; will try again'),
    });
    if (!registered) return;
    this.leases.start();
    log.info({ workerId, concurrency }, 'worker started');
    try {
      while (!this.stopping) {
        if (await this.pause.isPaused()) {
          if (await this.waitWhilePaused()) break;
          continue;
        }
        const { claimed, free, failed } = await this.claimFreeSlots();
        if (failed) {
          await this.sleeper.sleep(this.claimDelay.next());
          continue;
        }
        if (claimed > 0) this.idleDelayMs = this.options.pollIntervalMs;
        // A full batch: there may be more waiting, claim again at once.
        if (claimed > 0 && claimed === free) continue;
        if (await this.isDrained()) break;
        await this.maybeHeal();
        await this.sleeper.sleep(await this.nextWaitMs(claimed === 0 && this.inFlight.size === 0));
      }
      await this.finishInFlight();
    } finally {
      await this.leases.stop();
      await markWorkerStopped(db, workerId).catch((error: Error) =>
        log.warn({ err: error.message }, 'could not mark worker stopped'),
      );
      log.info({ workerId }, 'worker stopped');
    }
  }

  /** Cuts the current idle wait short: new work is likely. */
  wake(): void {
    this.idleDelayMs = this.options.pollIntervalMs;
    this.sleeper.wake();
  }

  /** Stops claiming; run() then resolves once in-flight items are finished or released. */
  stop(): void {
    this.stopping = true;
    this.sleeper.wake();
  }

  /**
   * One poll's wait while paused (the heal cycle still runs). True when the
   * loop should end: `run --once` has nothing in flight and will claim nothing.
   */
  private async waitWhilePaused(): Promise<boolean> {
    if (this.options.once && this.inFlight.size === 0) {
      this.options.log.warn('the fleet is paused: run --once stops without claiming');
      return true;
    }
    await this.maybeHeal();
    await this.sleeper.sleep(this.options.pollIntervalMs);
    return false;
  }

  private async claimFreeSlots(): Promise<{ claimed: number; free: number; failed: boolean }> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return { claimed: 0, free, failed: false };
    let claimed: ClaimedItem[] = [];
    try {
      claimed = await claimItems(this.options.db, {
        workerId: this.options.workerId,
        leaseMs: this.options.leaseMs,
        limit: free,
      });
    } catch (error) {
      this.claimProblem.report(error, { inFlight: this.inFlight.size });
      return { claimed: 0, free, failed: true };
    }
    if (this.claimProblem.active) {
      this.claimProblem.resolved('claims work again');
      this.claimDelay.reset();
      this.idleDelayMs = this.options.pollIntervalMs;
    }
    for (const item of claimed) this.start(item);
    if (claimed.length > 0) this.options.onClaimed?.(claimed.length);
    return { claimed: claimed.length, free, failed: false };
  }

  private start(item: ClaimedItem): void {
    const controller = new AbortController();
    const promise = runClaimedItem(this.options, item, controller.signal)
      .then((outcome) => this.options.onItemFinished?.(outcome, item.mediaId))
      .catch((error: Error) =>
        this.options.log.error(
          { mediaId: item.mediaId, err: error.message },
          'item could not be settled; its lease will expire and another attempt will follow',
        ),
      )
      .finally(() => {
        this.inFlight.delete(item.mediaId);
        this.sleeper.wake();
      });
    this.inFlight.set(item.mediaId, {
      mediaId: item.mediaId,
      claimToken: item.claimToken,
      controller,
      promise,
    });
  }

  private async isDrained(): Promise<boolean> {
    if (!this.options.once || this.inFlight.size > 0) return false;
    // Unknown while the database is away: not drained, and the next claim backs off.
    const outlook = await queueOutlook(this.options.db).catch(() => undefined);
    return outlook?.queued === 0;
  }

  /**
   * How long to wait: until the next retry falls due, but never past the idle
   * delay, which doubles while the worker is idle. A finished item wakes us.
   */
  private async nextWaitMs(idle: boolean): Promise<number> {
    if (this.inFlight.size >= this.options.concurrency) return this.options.idleMaxMs;
    const wait = this.idleDelayMs;
    if (idle) this.idleDelayMs = Math.min(this.idleDelayMs * 2, this.options.idleMaxMs);
    const outlook = await queueOutlook(this.options.db).catch(() => undefined);
    if (outlook?.nextDueAt !== undefined)
      return Math.min(wait, Math.max(0, outlook.nextDueAt - Date.now()) + 5);
    return wait;
  }

  /**
   * Every HEAL_INTERVAL_MS: heal what is due, batch after batch while batches
   * come back full (up to MAX_HEAL_BATCHES), so a backlog failed by one outage
   * comes back in one cycle rather than HEAL_BATCH items per cycle.
   */
  private async maybeHeal(): Promise<void> {
    if (Date.now() < this.nextHealAt) return;
    this.nextHealAt = Date.now() + this.options.healIntervalMs;
    try {
      let total = 0;
      for (let batch = 0; batch < MAX_HEAL_BATCHES; batch++) {
        const { healed, handled } = await this.healBatch();
        total += healed;
        if (handled < this.options.healBatch) break;
      }
      if (total > 0) {
        this.options.onHealed?.(total);
        this.options.log.info({ healed: total }, `heal cycle re-queued ${total} item(s)`);
        this.wake();
      }
    } catch (error) {
      this.options.log.error({ err: (error as Error).message }, 'heal cycle failed');
    }
  }

  /** One batch: how many were healed, and how many rows it dealt with (healed or given up). */
  private async healBatch(): Promise<{ healed: number; handled: number }> {
    let gaveUp = 0;
    const healed = await healFailedItems(this.options.db, {
      limit: this.options.healBatch,
      workerId: this.options.workerId,
      budget: { maxHeals: this.options.healMaxCount, maxAgeMs: this.options.healMaxAgeHours * 3_600_000 },
      onGaveUp: (ids) => {
        gaveUp += ids.length;
        this.options.log.warn({ items: ids }, `heal budget spent: ${ids.length} item(s) failed for good`);
      },
    });
    return { healed: healed.length, handled: healed.length + gaveUp };
  }

  private async finishInFlight(): Promise<void> {
    if (this.inFlight.size === 0) return;
    this.options.log.info({ inFlight: this.inFlight.size }, 'waiting for in-flight items');
    const settled = Promise.all([...this.inFlight.values()].map((item) => item.promise));
    const graceOver = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, this.options.shutdownGraceMs, 'timeout').unref(),
    );
    if ((await Promise.race([settled, graceOver])) === 'timeout') {
      this.options.log.warn({ inFlight: this.inFlight.size }, 'grace period over: aborting in-flight items');
      for (const item of this.inFlight.values())
        item.controller.abort(new Error('shutdown grace period over'));
      await settled;
    }
  }
}
