/** The ordered steps every item goes through, assembled from their dependencies; and libvips' set-up. */
import os from 'node:os';
import sharp from 'sharp';
import type { Config } from './config.js';
import type { Db } from './db/connect.js';
import { createHttpUploadSourceOpener } from './intake/http-upload-source.js';
import { createLocalSourceOpener } from './intake/local-source.js';
import type { MainApiClient } from './intake/main-api-client.js';
import { createMainApiSourceOpener } from './intake/main-api-source.js';
import type { Logger } from './log.js';
import type { ImageRuntime } from './images/image-runtime.js';
import type { AnalysisProvider } from './analysis/analysis-provider.js';
import type { Metrics } from './metrics.js';
import { createAnalyseStep } from './steps/analyse.js';
import { createCallbackStep } from './steps/callback.js';
import { createResizeStep } from './steps/resize.js';
import { createRetrieveStep } from './steps/retrieve.js';
import type { Step } from './steps/step.js';
import type { ObjectStore } from './storage/object-store.js';

/** The settings the steps read. */
export type PipelineConfig = Pick<
  Config,
  'maxInputPixels' | 'maxUploadBytes' | 'goneConfirmMs' | 'publicBaseUrl'
> &
  Partial<Pick<Config, 'onDemandSizes'>>;

/** What the steps share with the rest of the process; whoever builds the pipeline owns and closes them. */
export interface PipelineParts {
  images: ImageRuntime;
  providers: readonly AnalysisProvider[];
  metrics?: Metrics;
  mainApi?: MainApiClient;
}

export function buildPipeline(
  config: PipelineConfig,
  db: Db,
  storage: ObjectStore,
  parts: PipelineParts,
): Step[] {
  const { images, providers, mainApi, metrics } = parts;
  const decoding = {
    db,
    storage,
    maxInputPixels: config.maxInputPixels,
    images,
    ...(config.onDemandSizes ? { onDemandSizes: config.onDemandSizes } : {}),
  };
  return [
    createRetrieveStep({
      storage,
      images,
      maxUploadBytes: config.maxUploadBytes,
      maxInputPixels: config.maxInputPixels,
      openers: {
        local: createLocalSourceOpener(config.maxUploadBytes),
        http: createHttpUploadSourceOpener(storage),
        ...(mainApi ? { main_api: createMainApiSourceOpener(mainApi, config.goneConfirmMs) } : {}),
      },
      ...(mainApi ? { mainApiHeldUntilMs: () => mainApi.heldUntilMs() } : {}),
    }),
    createAnalyseStep({ ...decoding, providers }),
    createResizeStep({
      ...decoding,
      ...(metrics ? { onVariantWritten: metrics.onVariantWritten } : {}),
    }),
    createCallbackStep({ db, mainApi, publicBaseUrl: config.publicBaseUrl }),
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
