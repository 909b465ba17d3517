/**
 * The rows of the option table for the paid analysis providers, `openai`
 * and `google` (docs/analysis-providers.md): where they are, their keys,
 * timeouts, concurrency, prices and daily budgets. Prices and budgets are
 * plain numbers in whatever currency the operator's contract uses.
 */
import { httpUrl, positiveInt, text, type Parser } from './config-parsers.js';
import { option, optional } from './config-row.js';

/** A price or a budget: a number ≥ 0 (decimals allowed). */
const amount: Parser<number> = (raw) => {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new Error(`must be a number ≥ 0 (got "${raw}")`);
  return value;
};

function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(value))
      throw new Error(`must be one of ${values.join(', ')} (got "${raw}")`);
    return value as T;
  };
}

export const PROVIDER_OPTIONS = [
  option({
    key: 'openaiBaseUrl',
    env: 'OPENAI_BASE_URL',
    default: 'https://api.openai.com/v1',
    parse: httpUrl,
    doc: 'base URL of an OpenAI-compatible API (…/chat/completions is posted to): OpenAI, an Azure deployment URL, Ollama http://127.0.0.1:11434/v1, vLLM, llama.cpp server, LM Studio',
  }),
  optional({
    key: 'openaiApiKey',
    env: 'OPENAI_API_KEY',
    default: undefined,
    parse: text,
    doc: 'API key of OPENAI_BASE_URL (sent as Bearer, or as api-key with OPENAI_API_STYLE=azure); self-hosted servers may need none',
  }),
  option({
    key: 'openaiModel',
    env: 'OPENAI_MODEL',
    default: 'gpt-4o-mini',
    parse: text,
    doc: 'model name sent with each request (a vision model; part of the cache key)',
  }),
  option({
    key: 'openaiApiStyle',
    env: 'OPENAI_API_STYLE',
    default: 'openai',
    parse: oneOf(['openai', 'azure'] as const),
    doc: 'openai (Authorization: Bearer) or azure (api-key header, ?api-version=; OPENAI_BASE_URL is the deployment URL)',
  }),
  option({
    key: 'openaiApiVersion',
    env: 'OPENAI_API_VERSION',
    default: '2024-10-21',
    parse: text,
    doc: 'with OPENAI_API_STYLE=azure: the api-version query parameter',
  }),
  option({
    key: 'openaiResponseFormat',
    env: 'OPENAI_RESPONSE_FORMAT',
    default: 'json_schema',
    parse: oneOf(['json_schema', 'json_object', 'none'] as const),
    doc: 'json_schema (strict structured output), or json_object / none for servers without it (the answer is then read from the text, fenced or not)',
  }),
  option({
    key: 'openaiTokenLimitParam',
    env: 'OPENAI_TOKEN_LIMIT_PARAM',
    default: 'auto',
    parse: oneOf(['auto', 'max_completion_tokens', 'max_tokens', 'none'] as const),
    doc: 'name of the output token limit sent: auto (max_completion_tokens for api.openai.com and azure, max_tokens for other servers: Ollama, vLLM, llama.cpp), or one of max_completion_tokens, max_tokens, none',
  }),
  optional({
    key: 'openaiTemperature',
    env: 'OPENAI_TEMPERATURE',
    default: undefined,
    parse: amount,
    doc: 'temperature sent with each request; unset: none is sent (reasoning models refuse one)',
  }),
  option({
    key: 'openaiTimeoutMs',
    env: 'OPENAI_TIMEOUT_MS',
    default: '60000',
    parse: positiveInt,
    doc: 'deadline of one openai call (every try included)',
  }),
  option({
    key: 'openaiConcurrency',
    env: 'OPENAI_CONCURRENCY',
    default: '2',
    parse: positiveInt,
    doc: 'openai requests at once per process (others wait)',
  }),
  optional({
    key: 'openaiPricePer1kInput',
    env: 'OPENAI_PRICE_PER_1K_INPUT',
    default: undefined,
    parse: amount,
    doc: 'price of 1,000 input (prompt) tokens; with OPENAI_PRICE_PER_1K_OUTPUT: each call’s cost; unset: cost unknown (null)',
  }),
  optional({
    key: 'openaiPricePer1kOutput',
    env: 'OPENAI_PRICE_PER_1K_OUTPUT',
    default: undefined,
    parse: amount,
    doc: 'price of 1,000 output (completion) tokens',
  }),
  optional({
    key: 'openaiDailyBudget',
    env: 'OPENAI_DAILY_BUDGET',
    default: undefined,
    parse: amount,
    doc: 'spend per UTC day (fleet-wide, from the database) after which openai is skipped until the next day; needs both prices',
  }),
  option({
    key: 'googleVisionBaseUrl',
    env: 'GOOGLE_VISION_BASE_URL',
    default: 'https://vision.googleapis.com',
    parse: httpUrl,
    doc: 'Google Cloud Vision API base URL (…/v1/images:annotate is posted to)',
  }),
  optional({
    key: 'googleVisionApiKey',
    env: 'GOOGLE_VISION_API_KEY',
    default: undefined,
    parse: text,
    doc: 'Google Cloud API key with the Vision API enabled (required with the google provider)',
  }),
  option({
    key: 'googleVisionTimeoutMs',
    env: 'GOOGLE_VISION_TIMEOUT_MS',
    default: '20000',
    parse: positiveInt,
    doc: 'deadline of one Google Vision call (every try included)',
  }),
  option({
    key: 'googleVisionConcurrency',
    env: 'GOOGLE_VISION_CONCURRENCY',
    default: '4',
    parse: positiveInt,
    doc: 'Google Vision requests at once per process (others wait)',
  }),
  optional({
    key: 'googleVisionPricePer1kUnits',
    env: 'GOOGLE_VISION_PRICE_PER_1K_UNITS',
    default: undefined,
    parse: amount,
    doc: 'price of 1,000 units (one unit = one feature on one image; a call asks for 5); unset: cost unknown (null)',
  }),
  optional({
    key: 'googleVisionDailyBudget',
    env: 'GOOGLE_VISION_DAILY_BUDGET',
    default: undefined,
    parse: amount,
    doc: 'spend per UTC day (fleet-wide, from the database) after which google is skipped until the next day; needs GOOGLE_VISION_PRICE_PER_1K_UNITS',
  }),
] as const;

type Values = Readonly<Record<string, unknown>>;

/** Provider settings that contradict each other or the provider list. */
export function providerOptionProblems(values: Values): string[] {
  const providers = (values.analysisProviders as readonly string[] | undefined) ?? [];
  const problems: string[] = [];
  if (providers.includes('google') && values.googleVisionApiKey === undefined)
    problems.push('ANALYSIS_PROVIDERS includes google, so GOOGLE_VISION_API_KEY must be set');
  if (
    providers.includes('openai') &&
    values.openaiApiKey === undefined &&
    String(values.openaiBaseUrl).startsWith('https://api.openai.com')
  )
    problems.push('ANALYSIS_PROVIDERS includes openai at api.openai.com, so OPENAI_API_KEY must be set');
  if (
    values.openaiDailyBudget !== undefined &&
    (values.openaiPricePer1kInput === undefined || values.openaiPricePer1kOutput === undefined)
  )
    problems.push(
      'OPENAI_DAILY_BUDGET needs OPENAI_PRICE_PER_1K_INPUT and OPENAI_PRICE_PER_1K_OUTPUT: without prices no spend is counted',
    );
  if (values.googleVisionDailyBudget !== undefined && values.googleVisionPricePer1kUnits === undefined)
    problems.push(
      'GOOGLE_VISION_DAILY_BUDGET needs GOOGLE_VISION_PRICE_PER_1K_UNITS: without a price no spend is counted',
    );
  return problems;
}
