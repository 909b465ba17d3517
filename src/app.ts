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
import { createCallbackStep } from './steps/callback.js';
import { createRetrieveStep } from './steps/retrieve.js';
import type { Step } from './steps/step.js';
import { FileStorage, type Storage } from './storage/storage.js';
import { VERSION } from './version.js';

/** How long main API traffic for an item pauses after the main API refused our key. */
const AUTH_PAUSE_MS = 60_000;

export function buildPipeline(config: Config, storage: Storage): Step[] {
  return [
    createRetrieveStep({
      storage,
      maxUploadBytes: config.maxUploadBytes,
      maxInputPixels: config.maxInputPixels,
      openers: { local: createLocalSourceOpener(config.maxUploadBytes) },
    }),
    createCallbackStep({}),
  ];
}

export interface RunOptions {
  once: boolean;
  migrate: boolean;
}

export class App {
  readonly db: Db;
  readonly storage: Storage;
  private worker: WorkerLoop | undefined;

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.db = connectDatabase(config.database);
    this.storage = new FileStorage(config.storageDir);
  }

  async run(options: RunOptions): Promise<void> {
    // libvips runs one thread per image by default on glibc; use every core on purpose.
    sharp.concurrency(os.availableParallelism());
    if (options.migrate) {
      const applied = await migrateLatest(this.db);
      if (applied.length > 0) this.log.info({ applied }, 'migrations applied');
    }
    this.worker = new WorkerLoop({
      ...this.config,
      db: this.db,
      version: VERSION,
      steps: buildPipeline(this.config, this.storage),
      authPauseMs: AUTH_PAUSE_MS,
      log: this.log,
      once: options.once,
    });
    await this.worker.run();
  }

  stop(): void {
    this.worker?.stop();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
