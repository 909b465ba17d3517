/** The real pipeline for a test, with its image runtime and analysis providers closed when the work is done. */
import { closeProviders, createProviders } from '../../src/analysis/configured-providers.js';
import type { Config } from '../../src/config.js';
import type { Db } from '../../src/db/connect.js';
import { createImageRuntime } from '../../src/images/image-runtime.js';
import { silentLogger } from '../../src/log.js';
import { buildPipeline, type PipelineParts } from '../../src/pipeline.js';
import type { Step } from '../../src/steps/step.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export async function withPipeline<T>(
  config: Config,
  db: Db,
  storage: ObjectStore,
  work: (steps: Step[]) => Promise<T>,
  extras: Omit<Partial<PipelineParts>, 'images' | 'providers'> = {},
): Promise<T> {
  const images = createImageRuntime(config.imageMemoryMb);
  const providers = createProviders(config, silentLogger());
  try {
    return await work(buildPipeline(config, db, storage, { images, providers, ...extras }));
  } finally {
    await images.close();
    await closeProviders(providers);
  }
}
