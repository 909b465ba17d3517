/**
 * Composition root: builds the database, storage, pipeline and worker loop
 * from a Config, and nothing else. Commands call into it; it calls down.
 */
import os from 'node:os';
import sharp from 'sharp';
import type { Config } from './config.js';
import { connectDatabase, type Db } from './db/connect.js';
import { migrateLatest } from './db/migrate.js';
import { createLocalSourceOpener } from './intake/local-source.js';
import type { Logger } from './log.js';
import { WorkerLoop } from './queue/worker-loop.js';
import { createServer } from './http/server.js';
import { VariantLookup } from './http/variant-lookup.js';
import { stopPixelThread } from './images/pixel-thread.js';
import { Metrics } from './metrics.js';
import type { FastifyInstance } from 'fastify';
import { createAnalyseStep } from './steps/analyse.js';
import { createCallbackStep } from './steps/callback.js';
import { createResizeStep } from './steps/resize.js';
import { createRetrieveStep } from './steps/retrieve.js';
import type { Step } from './steps/step.js';
import { FileStorage, type Storage } from './storage/storage.js';
import { VERSION } from './version.js';

/** How long main API traffic for an item pauses after the main API refused our key. */
const AUTH_PAUSE_MS = 60_000;

export function buildPipeline(config: Config, db: Db, storage: Storage, metrics?: Metrics): Step[] {
  const images = { db, storage, maxInputPixels: config.maxInputPixels };
  return [
    createRetrieveStep({
      storage,
      maxUploadBytes: config.maxUploadBytes,
      maxInputPixels: config.maxInputPixels,
      openers: { local: createLocalSourceOpener(config.maxUploadBytes) },
    }),
    createAnalyseStep(images),
    createResizeStep({ ...images, ...(metrics ? { onVariantWritten: metrics.onVariantWritten } : {}) }),
    createCallbackStep({}),
  ];
}

/**
 * libvips set-up for a daemon: one thread per core on purpose (the glibc
 * default is 1), and no operation cache (every image is new; the cache
 * would only hold memory).
 */
export function configureSharp(log: Logger): void {
  sharp.concurrency(os.availableParallelism());
  sharp.cache(false);
  const decodable = Object.entries(sharp.format)
    .filter(([, format]) => (format as { input: { file: boolean } }).input.file)
    .map(([name]) => name);
  // The prebuilt libheif decodes AV1 only: "heif" here means AVIF; HEVC-coded HEIC is refused at intake.
  log.info({ decodable, heic: false }, 'image formats this sharp build decodes (SVG is refused at intake)');
}

export interface RunOptions {
  once: boolean;
  migrate: boolean;
  serve: boolean;
  work: boolean;
}

export class App {
  readonly db: Db;
  readonly storage: Storage;
  readonly metrics = new Metrics();
  private readonly lookup: VariantLookup;
  private worker: WorkerLoop | undefined;
  private server: FastifyInstance | undefined;
  private stopRequested: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.stopRequested = resolve));

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.db = connectDatabase(config.database);
    this.storage = new FileStorage(config.storageDir);
    this.lookup = new VariantLookup(this.db);
  }

  /** Runs the server and/or the worker until stop() (or, with `once`, until the queue is empty). */
  async run(options: RunOptions): Promise<void> {
    configureSharp(this.log);
    if (options.migrate) {
      const applied = await migrateLatest(this.db);
      if (applied.length > 0) this.log.info({ applied }, 'migrations applied');
    }
    try {
      if (options.serve) await this.startServer();
      if (options.work) await this.runWorker(options.once);
      else await this.stopped;
    } finally {
      await this.server?.close();
    }
  }

  stop(): void {
    this.worker?.stop();
    this.stopRequested();
  }

  async close(): Promise<void> {
    await stopPixelThread();
    await this.db.destroy();
  }

  private async startServer(): Promise<void> {
    this.metrics.watchQueue(this.db, this.storage.root);
    this.server = createServer({
      db: this.db,
      storage: this.storage,
      metrics: this.metrics,
      lookup: this.lookup,
      log: this.log,
      mediaApiKey: this.config.mediaApiKey,
      diskAlertPercent: this.config.diskAlertPercent,
      mainApiAuthProblem: () => undefined,
    });
    const address = await this.server.listen({ host: this.config.httpHost, port: this.config.httpPort });
    this.log.info({ address }, 'HTTP server listening');
  }

  private async runWorker(once: boolean): Promise<void> {
    this.worker = new WorkerLoop({
      ...this.config,
      db: this.db,
      version: VERSION,
      steps: buildPipeline(this.config, this.db, this.storage, this.metrics),
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
    await this.worker.run();
  }
}
