/** The configured analysis providers, in merge order, and what they say about themselves at start-up. */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createLocalProvider } from './local-provider.js';
import { createModelsProvider } from './models/models-provider.js';
import type { AnalysisProvider, BillingHooks } from './analysis-provider.js';
import { createGoogleVisionProvider } from './google-vision-provider.js';
import { createOpenAiProvider } from './openai-provider.js';
import { createRemoteProvider } from './remote-provider.js';

type AnalysisConfig = Pick<
  Config,
  | 'analysisProviders'
  | 'moderationThreshold'
  | 'analysisRemoteUrl'
  | 'analysisRemoteKey'
  | 'analysisRemoteTimeoutMs'
  | 'openaiBaseUrl'
  | 'openaiApiKey'
  | 'openaiModel'
  | 'openaiApiStyle'
  | 'openaiApiVersion'
  | 'openaiResponseFormat'
  | 'openaiTokenLimitParam'
  | 'openaiTemperature'
  | 'openaiTimeoutMs'
  | 'openaiConcurrency'
  | 'openaiPricePer1kInput'
  | 'openaiPricePer1kOutput'
  | 'openaiDailyBudget'
  | 'googleVisionBaseUrl'
  | 'googleVisionApiKey'
  | 'googleVisionTimeoutMs'
  | 'googleVisionConcurrency'
  | 'googleVisionPricePer1kUnits'
  | 'googleVisionDailyBudget'
>;

function createOpenAi(config: AnalysisConfig, log: Logger): AnalysisProvider {
  return createOpenAiProvider({
    baseUrl: config.openaiBaseUrl,
    apiKey: config.openaiApiKey,
    model: config.openaiModel,
    apiStyle: config.openaiApiStyle,
    apiVersion: config.openaiApiVersion,
    responseFormat: config.openaiResponseFormat,
    tokenLimitParam: config.openaiTokenLimitParam,
    temperature: config.openaiTemperature,
    timeoutMs: config.openaiTimeoutMs,
    concurrency: config.openaiConcurrency,
    pricePer1kInput: config.openaiPricePer1kInput,
    pricePer1kOutput: config.openaiPricePer1kOutput,
    dailyBudget: config.openaiDailyBudget,
    log,
  });
}

function createGoogle(config: AnalysisConfig, log: Logger): AnalysisProvider {
  return createGoogleVisionProvider({
    baseUrl: config.googleVisionBaseUrl,
    apiKey: config.googleVisionApiKey!,
    timeoutMs: config.googleVisionTimeoutMs,
    concurrency: config.googleVisionConcurrency,
    pricePer1kUnits: config.googleVisionPricePer1kUnits,
    dailyBudget: config.googleVisionDailyBudget,
    log,
  });
}

/** A paid provider with the process's metrics hooked to its billing. */
function withHooks(provider: AnalysisProvider, hooks: BillingHooks | undefined): AnalysisProvider {
  if (!hooks || !provider.billing) return provider;
  return { ...provider, billing: { ...provider.billing, hooks } };
}

export function createProviders(
  config: AnalysisConfig,
  log: Logger,
  hooks?: BillingHooks,
): AnalysisProvider[] {
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
      case 'openai':
        return withHooks(createOpenAi(config, log), hooks);
      case 'google':
        return withHooks(createGoogle(config, log), hooks);
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
