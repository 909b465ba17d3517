/**
 * Every Prometheus metric of the process, in one place (as imgproxy does).
 * Counters are moved by hooks the worker and server call; queue and storage
 * gauges are computed when scraped, from a few indexed queries and statfs.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from './db/connect.js';
import { readPauseState } from './db/fleet-pause.js';
import { countByStatus, countCallbackResults, countGaveUp, oldestPendingAgeMs } from './db/queue-stats.js';
import { storageStats } from './db/storage-stats.js';
import { listLiveWorkers } from './db/workers.js';
import { diskUsage } from './storage/disk-usage.js';

const PREFIX = 'media_worker_';

/** What /readyz and `stats` judge by, handed over so alerts can use the same thresholds. */
export interface HealthSources {
  /** A worker is live while its heartbeat is younger than this (LEASE_MS, as `stats` counts). */
  leaseMs: number;
  diskAlertPercent: number;
  /** Why this process paused main API traffic (401/403), or undefined. */
  mainApiAuthProblem: () => string | undefined;
}

/** The same promise for every caller within `ms`: collectors of one scrape share one query. */
function sharedFor<T>(ms: number, load: () => Promise<T>): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > ms) cached = { at: Date.now(), value: load() };
    return cached.value;
  };
}

export class Metrics {
  readonly registry = new Registry();
  private readonly stepOutcomes = new Counter({
    name: `${PREFIX}step_outcomes_total`,
    help: 'Step attempts by step and outcome (completed, skipped, or the error class).',
    labelNames: ['step', 'outcome'],
    registers: [this.registry],
  });
  private readonly stepDuration = new Histogram({
    name: `${PREFIX}step_duration_seconds`,
    help: 'Time a step attempt took.',
    labelNames: ['step'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly itemsClaimed = new Counter({
    name: `${PREFIX}items_claimed_total`,
    help: 'Items claimed by this process.',
    registers: [this.registry],
  });
  private readonly itemsFinished = new Counter({
    name: `${PREFIX}items_finished_total`,
    help: 'Claims of this process by how they ended.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly healActions = new Counter({
    name: `${PREFIX}heal_actions_total`,
    help: 'Failed items re-queued by the heal cycle.',
    registers: [this.registry],
  });
  private readonly writtenBytes = new Counter({
    name: `${PREFIX}written_bytes_total`,
    help: 'Bytes of variants written, by format.',
    labelNames: ['format'],
    registers: [this.registry],
  });
  private readonly intakePolls = new Counter({
    name: `${PREFIX}intake_polls_total`,
    help: 'Polls of the main API pending list by outcome.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly intakeImported = new Counter({
    name: `${PREFIX}intake_imported_total`,
    help: 'New uploads imported from the main API.',
    registers: [this.registry],
  });
  private readonly intakeSkipped = new Counter({
    name: `${PREFIX}intake_skipped_total`,
    help: 'Malformed pending-list entries skipped (counted at every poll that lists them).',
    registers: [this.registry],
  });
  private readonly serveRequests = new Counter({
    name: `${PREFIX}serve_requests_total`,
    help: 'Requests to /serve by HTTP status and format served.',
    labelNames: ['status', 'format'],
    registers: [this.registry],
  });
  private readonly serveMemoryHits = new Counter({
    name: `${PREFIX}serve_memory_hits_total`,
    help: 'Requests to /serve answered from the variant bodies held in memory (SERVE_MEMORY_CACHE_MB), before routing.',
    registers: [this.registry],
  });
  private readonly serveCache = new Counter({
    name: `${PREFIX}serve_cache_total`,
    help: 'Variants /serve read through the local cache of a bucket: hit, miss (fetched and cached), bypass (read from the bucket).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly onDemandRenders = new Counter({
    name: `${PREFIX}on_demand_renders_total`,
    help: 'On-demand variants this process rendered (ON_DEMAND_SIZES), by size and format.',
    labelNames: ['size', 'format'],
    registers: [this.registry],
  });
  private readonly providerCost = new Counter({
    name: `${PREFIX}provider_cost_total`,
    help: 'What paid analysis provider calls cost at the configured prices (currency of the prices), by provider.',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  private readonly providerCacheHits = new Counter({
    name: `${PREFIX}provider_cache_hits_total`,
    help: 'Paid analysis provider answers reused from the cache instead of a new call, by provider.',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  private readonly providerCostSaved = new Counter({
    name: `${PREFIX}provider_cost_saved_total`,
    help: 'What the cache hits did not spend (what the reused answers had cost), by provider.',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  private readonly scrapeFailures = new Counter({
    name: `${PREFIX}scrape_failures_total`,
    help: 'Gauges that could not be read when scraped (their source, e.g. the database, did not answer).',
    labelNames: ['gauge'],
    registers: [this.registry],
  });
  private readonly serveDuration = new Histogram({
    name: `${PREFIX}serve_duration_seconds`,
    help: 'Time to answer /serve (until the whole response is handed to the socket).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    // prom-client names three gauges *_total, which Prometheus reserves for counters
    // (promtool rejects them); its nodejs_active_resources{type} gauge says the same.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      this.registry.removeSingleMetric(`${PREFIX}nodejs_${name}`);
    }
  }

  /** Gauges computed at scrape time from the database and the storage disk. */
  watchQueue(db: Db, storageDir: string): void {
    this.scrapedGauge('queue_items', 'Items by status.', ['status'], async (gauge) => {
      const byStatus = await countByStatus(db);
      gauge.reset();
      for (const [status, n] of Object.entries(byStatus)) gauge.set({ status }, n);
    });
    this.scrapedGauge(
      'oldest_pending_age_seconds',
      'Age of the oldest item not yet completed or failed (0 when none).',
      [],
      async (gauge) => gauge.set(((await oldestPendingAgeMs(db)) ?? 0) / 1000),
    );
    this.scrapedGauge(
      'paused',
      'The fleet-wide pause: 1 while paused (no worker claims new items), else 0.',
      [],
      async (gauge) => gauge.set((await readPauseState(db)).paused ? 1 : 0),
    );
    this.watchOutcomes(db);
    this.watchStorage(db, storageDir);
  }

  /** How items ended upstream: given up after healing, and the main API's answers to completions. */
  private watchOutcomes(db: Db): void {
    this.scrapedGauge(
      'items_gave_up',
      'Items failed for good because their heal budget was spent (retries exhausted).',
      [],
      async (gauge) => gauge.set(await countGaveUp(db)),
    );
    this.scrapedGauge(
      'callback_results',
      'Completed items by what the main API answered to their completion (upload_unknown: it no longer knew the upload).',
      ['result'],
      async (gauge) => {
        const results = await countCallbackResults(db);
        gauge.reset();
        for (const [result, n] of Object.entries(results)) gauge.set({ result }, n);
      },
    );
  }

  private watchStorage(db: Db, storageDir: string): void {
    // Two gauges read the same four queries: one run serves both within a scrape.
    const storage = sharedFor(1000, () => storageStats(db));
    this.scrapedGauge(
      'storage_bytes',
      'Bytes stored, by area (bulk: originals; library: variants) and data type, as recorded in the database.',
      ['area', 'data_type'],
      async (gauge) => {
        const stats = await storage();
        gauge.reset();
        for (const [dataType, usage] of Object.entries(stats.byDataType)) {
          gauge.set({ area: 'bulk', data_type: dataType }, usage.bulk.bytes);
          gauge.set({ area: 'library', data_type: dataType }, usage.library.bytes);
        }
      },
    );
    this.scrapedGauge(
      'dedup_saved_bytes',
      'Variant bytes shared with an identical earlier upload instead of being made again.',
      [],
      async (gauge) => gauge.set((await storage()).dedup.bytesSaved),
    );
    // Free and size come from one statfs per scrape.
    const disk = sharedFor(1000, () => diskUsage(storageDir));
    this.scrapedGauge(
      'disk_free_bytes',
      'Free bytes on the storage file system (for unprivileged users).',
      [],
      async (gauge) => gauge.set((await disk()).freeBytes),
    );
    this.scrapedGauge('disk_size_bytes', 'Size of the storage file system.', [], async (gauge) =>
      gauge.set((await disk()).totalBytes),
    );
  }

  /** The fleet's live workers, the main API auth pause and DISK_ALERT_PERCENT, for alerting. */
  watchHealth(db: Db, sources: HealthSources): void {
    this.scrapedGauge(
      'live_workers',
      'Workers whose heartbeat is younger than LEASE_MS, fleet-wide (the live workers of `stats`).',
      [],
      async (gauge) => gauge.set((await listLiveWorkers(db, sources.leaseMs)).length),
    );
    this.processGauge(
      'main_api_auth_paused',
      'This process: 1 while main API traffic is paused because the main API refused our key (401/403), else 0.',
      () => (sources.mainApiAuthProblem() === undefined ? 0 : 1),
    );
    this.processGauge(
      'disk_alert_percent',
      'DISK_ALERT_PERCENT: the disk use (percent) at which /readyz fails its disk check.',
      () => sources.diskAlertPercent,
    );
  }

  /** A gauge of this process's own state, read when scraped (nothing to fail). */
  private processGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * A gauge read when scraped. A read that fails (the database is down)
   * leaves that gauge empty and counts the failure, instead of failing the
   * whole scrape: the process metrics stay visible during an outage.
   */
  private scrapedGauge(
    name: string,
    help: string,
    labelNames: string[],
    read: (gauge: Gauge) => Promise<void>,
  ): void {
    const failures = this.scrapeFailures;
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        try {
          await read(this);
        } catch {
          this.reset();
          failures.inc({ gauge: `${PREFIX}${name}` });
        }
      },
    });
  }

  readonly onStepFinished = (step: string, outcome: string, seconds: number): void => {
    this.stepOutcomes.inc({ step, outcome });
    this.stepDuration.observe({ step }, seconds);
  };
  readonly onClaimed = (count: number): void => this.itemsClaimed.inc(count);
  readonly onItemFinished = (outcome: string): void => this.itemsFinished.inc({ outcome });
  readonly onHealed = (count: number): void => this.healActions.inc(count);
  readonly onVariantWritten = (format: string, bytes: number): void =>
    this.writtenBytes.inc({ format }, bytes);
  readonly onPolled = (outcome: 'ok' | 'error', imported: number, skipped: number): void => {
    this.intakePolls.inc({ outcome });
    this.intakeImported.inc(imported);
    this.intakeSkipped.inc(skipped);
  };
  readonly onServeMemoryHit = (): void => this.serveMemoryHits.inc();
  readonly onServeCache = (result: 'hit' | 'miss' | 'bypass'): void => this.serveCache.inc({ result });
  readonly onProviderCost = (provider: string, cost: number): void =>
    this.providerCost.inc({ provider }, cost);
  readonly onProviderCacheHit = (provider: string, saved: number): void => {
    this.providerCacheHits.inc({ provider });
    this.providerCostSaved.inc({ provider }, saved);
  };
  readonly onOnDemandRender = (size: string, format: string): void =>
    this.onDemandRenders.inc({ size, format });
  /** Label-bound children of serve_requests_total, one per (status, format) seen: no label hashing per hit. */
  private readonly servedBy = new Map<string, { inc: () => void }>();
  readonly onServed = (status: number, format: string, seconds: number): void => {
    const key = `${status} ${format}`;
    let counter = this.servedBy.get(key);
    if (!counter) this.servedBy.set(key, (counter = this.serveRequests.labels(String(status), format)));
    counter.inc();
    this.serveDuration.observe(seconds);
  };
}
