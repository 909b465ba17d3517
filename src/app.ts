/**
 * Composition root: builds the database, storage, pipeline and worker loop
 * from a Config, and nothing else. Commands call into it; it calls down.
 */
import { adminSettingsOf } from './admin/admin-context.js';
import { adminKeysOf, isMainApiConfigured, readOnlyKeysOf, retentionPolicy, type Config } from './config.js';
import { MainApiAuthState } from './intake/main-api-auth.js';
import { MainApiClient } from './intake/main-api-client.js';
import { MainApiPoller } from './intake/main-api-poller.js';
import { dashboardSettingsOf } from './dashboard/dashboard-session.js';
import { buildPipeline, configureSharp } from './pipeline.js';
import { connectDatabase, type Db } from './db/connect.js';
import { migrateLatest } from './db/migrate.js';
import { waitForDatabase } from './db/wait-for-database.js';
import type { Logger } from './log.js';
import { WorkerLoop, type WorkerLoopOptions } from './queue/worker-loop.js';
import { createServer } from './http/server.js';
import { VariantLookup, onDemandRendererFor } from './http/variant-lookup.js';
import { createImageRuntime, type ImageRuntime } from './images/image-runtime.js';
import { closeProviders, createProviders, logProviders } from './analysis/configured-providers.js';
import type { AnalysisProvider } from './analysis/analysis-provider.js';
import { Metrics } from './metrics.js';
import type { FastifyInstance } from 'fastify';
import { diskUsage } from './storage/disk-usage.js';
import type { ObjectStore } from './storage/object-store.js';
import { checkStorage, localDiskDir, objectStoreFor, storageLocation } from './storage/object-store-for.js';
import { checkStorageAtStart, waitForStorage } from './storage/storage-at-start.js';
import { createVariantSource, type VariantSource } from './http/variant-source.js';
import { VERSION } from './version.js';

/** How long main API traffic pauses after the main API refused our key. */
const AUTH_PAUSE_MS = 60_000;

export interface RunOptions {
  once: boolean;
  migrate: boolean;
  serve: boolean;
  work: boolean;
}

export class App {
  readonly db: Db;
  readonly storage: ObjectStore;
  private readonly variants: VariantSource;
  readonly metrics = new Metrics();
  private readonly lookup: VariantLookup;
  private readonly mainApiAuth: MainApiAuthState | undefined;
  private readonly mainApi: MainApiClient | undefined;
  private readonly providers: AnalysisProvider[];
  private readonly images: ImageRuntime;
  private worker: WorkerLoop | undefined;
  private poller: MainApiPoller | undefined;
  private server: FastifyInstance | undefined;
  private readonly stopController = new AbortController();
  private readonly stopped = new Promise<void>((resolve) =>
    this.stopController.signal.addEventListener('abort', () => resolve(), { once: true }),
  );

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.db = connectDatabase(config.database, { log });
    this.storage = objectStoreFor(config);
    this.variants = createVariantSource({
      store: this.storage,
      remote: storageLocation(config).kind === 's3',
      cacheDir: config.serveCacheDir,
      cacheBytes: config.serveCacheMb * 1024 * 1024,
      memoryCacheBytes: config.serveMemoryCacheMb * 1024 * 1024,
      log,
      onCacheResult: this.metrics.onServeCache,
    });
    this.lookup = new VariantLookup(this.db);
    this.providers = createProviders(config, log, {
      onProviderCost: this.metrics.onProviderCost,
      onProviderCacheHit: this.metrics.onProviderCacheHit,
    });
    this.images = createImageRuntime(config.imageMemoryMb);
    this.lookup.enableOnDemand(
      onDemandRendererFor(config, this.db, this.storage, this.images, log, this.metrics),
    );
    if (isMainApiConfigured(config)) {
      this.mainApiAuth = new MainApiAuthState(log, AUTH_PAUSE_MS);
      this.mainApi = new MainApiClient({
        baseUrl: config.mainApiUrl!,
        apiKey: config.mediaApiKey!,
        timeoutMs: config.mainApiTimeoutMs,
        downloadDeadlineMs: config.downloadDeadlineMs,
        pendingListMaxBytes: config.pendingListMaxBytes,
        log,
        maxUploadBytes: config.maxUploadBytes,
        auth: this.mainApiAuth,
      });
    }
  }

  /**
   * Runs the server and/or the worker until stop() (or, with `once`, until the queue is empty).
   * Storage is checked first (a wrong STORAGE_DIR or bucket exits 2 before anything is claimed); the
   * server listens before the database is waited for, so /healthz answers and /readyz says why.
   */
  async run(options: RunOptions): Promise<void> {
    configureSharp(this.log);
    const storageProblem = await checkStorageAtStart(this.storage, this.config);
    const diskWatch = setInterval(() => void this.warnIfDiskFull(), 60_000).unref();
    try {
      await this.warnIfDiskFull();
      if (options.serve) await this.startServer();
      const { signal } = this.stopController;
      if (storageProblem) {
        const waiting = { log: this.log, signal, firstProblem: storageProblem };
        if (!(await waitForStorage(this.storage, this.config, waiting))) return;
      }
      const waitMs = this.config.databaseWaitMs;
      if (!(await waitForDatabase(this.db, { target: this.config.database, log: this.log, waitMs, signal })))
        return;
      if (options.migrate) {
        const applied = await migrateLatest(this.db);
        if (applied.length > 0) this.log.info({ applied }, 'migrations applied');
      }
      if (signal.aborted) return;
      if (options.work) await this.runWorker(options.once);
      else await this.stopped;
    } finally {
      clearInterval(diskWatch);
      await this.server?.close();
    }
  }

  /** The local disk passing DISK_ALERT_PERCENT is logged (and fails /readyz) before it becomes ENOSPC. */
  private async warnIfDiskFull(): Promise<void> {
    const directory = localDiskDir(this.config);
    const usage = await diskUsage(directory).catch(() => undefined);
    if (usage && usage.usedPercent >= this.config.diskAlertPercent) {
      this.log.warn(
        {
          usedPercent: usage.usedPercent,
          freeBytes: usage.freeBytes,
          alertPercent: this.config.diskAlertPercent,
          directory,
        },
        'local disk above DISK_ALERT_PERCENT',
      );
    }
  }

  stop(): void {
    this.worker?.stop();
    this.poller?.stop();
    this.stopController.abort();
  }

  async close(): Promise<void> {
    await this.images.close();
    await closeProviders(this.providers);
    await this.storage.close();
    await this.db.destroy();
  }

  private async startServer(): Promise<void> {
    this.metrics.watchQueue(this.db, localDiskDir(this.config));
    this.metrics.watchHealth(this.db, {
      leaseMs: this.config.leaseMs,
      diskAlertPercent: this.config.diskAlertPercent,
      mainApiAuthProblem: () => this.mainApiAuth?.currentProblem(),
    });
    await this.variants.start();
    this.server = createServer({
      db: this.db,
      openVariant: this.variants.open,
      heldVariant: this.variants.held,
      ...(this.config.publicMediaBaseUrl ? { publicBaseUrl: this.config.publicMediaBaseUrl } : {}),
      checkStorage: () => checkStorage(this.storage, this.config),
      localDiskDir: localDiskDir(this.config),
      metrics: this.metrics,
      lookup: this.lookup,
      log: this.log,
      mediaApiKey: this.config.mediaApiKey,
      adminKeys: adminKeysOf(this.config),
      readOnlyKeys: readOnlyKeysOf(this.config),
      ...(this.config.trustProxy ? { trustProxy: this.config.trustProxy } : {}),
      apiRateLimit: this.config.apiRateLimit,
      diskAlertPercent: this.config.diskAlertPercent,
      mainApiAuthProblem: () => this.mainApiAuth?.currentProblem(),
      submit: {
        store: this.storage,
        maxUploadBytes: this.config.maxUploadBytes,
        uploadConcurrency: this.config.apiUploadConcurrency,
        retention: retentionPolicy(this.config),
      },
      admin: { store: this.storage, settings: adminSettingsOf(this.config) },
      ...(this.config.dashboard ? { dashboard: dashboardSettingsOf(this.config) } : {}),
    });
    const address = await this.server.listen({ host: this.config.httpHost, port: this.config.httpPort });
    this.log.info({ address }, 'HTTP server listening');
  }

  private async runWorker(once: boolean): Promise<void> {
    logProviders(this.providers, this.log);
    const { config } = this;
    this.worker = new WorkerLoop({
      ...queueSettings(config),
      db: this.db,
      version: VERSION,
      steps: buildPipeline(config, this.db, this.storage, {
        images: this.images,
        metrics: this.metrics,
        providers: this.providers,
        ...(this.mainApi ? { mainApi: this.mainApi } : {}),
      }),
      authPauseMs: AUTH_PAUSE_MS,
      log: this.log,
      once,
      onStepFinished: this.metrics.onStepFinished,
      onClaimed: this.metrics.onClaimed,
      onHealed: this.metrics.onHealed,
      onItemFinished: (outcome, mediaId) => {
        this.metrics.onItemFinished(outcome);
        this.lookup.invalidate(mediaId);
      },
    });
    this.poller =
      this.mainApi &&
      new MainApiPoller({
        db: this.db,
        client: this.mainApi,
        log: this.log,
        pollIntervalMs: this.config.pollIntervalMs,
        idleMaxMs: this.config.idleMaxMs,
        onNewWork: () => this.worker?.wake(),
        onPolled: this.metrics.onPolled,
        retention: retentionPolicy(this.config),
      });
    if (once) await this.pollOnceForDrain();
    const polling = once ? undefined : this.poller?.run();
    try {
      await this.worker.run();
    } finally {
      this.poller?.stop();
      await polling;
    }
    // Failures found while draining are reported before a one-shot run exits.
    if (once) await this.pollOnceForDrain();
  }

  private async pollOnceForDrain(): Promise<void> {
    await this.poller
      ?.pollOnce()
      .catch((error: Error) => this.log.warn({ err: error.message }, 'polling the main API failed'));
  }
}

/** The queue's settings from the config: the worker loop gets these, not the whole config. */
function queueSettings(config: Config) {
  return {
    workerId: config.workerId,
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
    pollIntervalMs: config.pollIntervalMs,
    idleMaxMs: config.idleMaxMs,
    maxAttempts: config.maxAttempts,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    healIntervalMs: config.healIntervalMs,
    healBatch: config.healBatch,
    healMaxCount: config.healMaxCount,
    healMaxAgeHours: config.healMaxAgeHours,
    shutdownGraceMs: config.shutdownGraceMs,
  } satisfies Partial<WorkerLoopOptions>;
}
