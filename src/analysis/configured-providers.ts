/** The configured analysis providers, in merge order, and what they say about themselves at start-up. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createLocalProvider } from './local-provider.js';
import { createModelsProvider } from './models/models-provider.js';
import type { AnalysisProvider } from './analysis-provider.js';
import { createRemoteProvider } from './remote-provider.js';

type AnalysisConfig = Pick<
  Config,
  | 'analysisProviders'
  | 'moderationThreshold'
  | 'analysisRemoteUrl'
  | 'analysisRemoteKey'
  | 'analysisRemoteTimeoutMs'
>;

export function createProviders(config: AnalysisConfig, log: Logger): AnalysisProvider[] {
  return config.analysisProviders.map((name) => {
    switch (name) {
      case 'local':
        return createLocalProvider();
      case 'models':
        return createModelsProvider({ moderationThreshold: config.moderationThreshold, log });
      case 'remote':
        return createRemoteProvider({
          url: config.analysisRemoteUrl!,
          key: config.analysisRemoteKey,
          timeoutMs: config.analysisRemoteTimeoutMs,
        });
    }
  });
}

/** One line per provider and model, warning about each that will not run and why. */
export function logProviders(providers: readonly AnalysisProvider[], log: Logger): void {
  for (const provider of providers) {
    for (const model of provider.describe()) {
      const entry = { provider: provider.name, ...model };
      if (model.unavailable)
        log.warn(entry, `analysis provider ${provider.name}: ${model.task} will NOT be analysed`);
      else log.info(entry, `analysis provider ${provider.name}: ${model.task}`);
    }
  }
}

export async function closeProviders(providers: readonly AnalysisProvider[]): Promise<void> {
  await Promise.all(providers.map((provider) => provider.close()));
}
