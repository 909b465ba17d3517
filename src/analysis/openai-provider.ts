/**
 * The openai provider: a vision language model behind an OpenAI-compatible
 * `POST …/chat/completions` (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp
 * server, LM Studio). It is asked, with a JSON schema, for the medium,
 * style, subject, mood words, a quality judgement with reasons, a caption,
 * alt text and the text in the image (openai-answer.ts). What leaves the
 * machine: the resized, metadata-free JPEG (provider-image.ts) and the fixed
 * prompt; nothing about the upload, its owner or its file name.
 */
import sharp from 'sharp';
import type { Logger } from '../log.js';
import type {
  AnalysisInput,
  AnalysisProvider,
  ModelDescription,
  ProviderReport,
} from './analysis-provider.js';
import {
  OPENAI_ANSWER_SCHEMA,
  OPENAI_PROMPT,
  OPENAI_PROMPT_VERSION,
  answerJson,
  completionContent,
  openAiFields,
  tokenUsage,
} from './openai-answer.js';
import { ProviderGate } from './provider-gate.js';
import { PaidAnswerError, createProviderHttp } from './provider-http.js';
import { analysisJpeg } from './provider-image.js';

export type OpenAiApiStyle = 'openai' | 'azure';
export type OpenAiResponseFormat = 'json_schema' | 'json_object' | 'none';
/** The name of the output token limit: `auto` picks by the service (docs/analysis-providers.md). */
export type OpenAiTokenLimitParam = 'auto' | 'max_completion_tokens' | 'max_tokens' | 'none';

export interface OpenAiProviderOptions {
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  apiStyle: OpenAiApiStyle;
  /** Azure only: the api-version query parameter. */
  apiVersion: string;
  responseFormat: OpenAiResponseFormat;
  /** Default `auto`: max_completion_tokens for api.openai.com and Azure, max_tokens for the others. */
  tokenLimitParam?: OpenAiTokenLimitParam;
  /** Sent only when set: reasoning models refuse any temperature. */
  temperature?: number | undefined;
  timeoutMs: number;
  concurrency: number;
  pricePer1kInput: number | undefined;
  pricePer1kOutput: number | undefined;
  dailyBudget: number | undefined;
  log: Logger;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_OUTPUT_TOKENS = 1000;

function responseFormat(format: OpenAiResponseFormat): Record<string, unknown> {
  if (format === 'none') return {};
  if (format === 'json_object') return { response_format: { type: 'json_object' } };
  return {
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'image_description', strict: true, schema: OPENAI_ANSWER_SCHEMA },
    },
  };
}

/** What the call cost at the configured prices per 1,000 tokens; null without both prices or token counts. */
export function tokenCost(
  usage: { input_tokens: number; output_tokens: number } | undefined,
  prices: Pick<OpenAiProviderOptions, 'pricePer1kInput' | 'pricePer1kOutput'>,
): number | null {
  if (!usage || prices.pricePer1kInput === undefined || prices.pricePer1kOutput === undefined) return null;
  const cost =
    (usage.input_tokens / 1000) * prices.pricePer1kInput +
    (usage.output_tokens / 1000) * prices.pricePer1kOutput;
  return Math.round(cost * 1e9) / 1e9;
}

/** The token limit's parameter name: OpenAI's current API takes max_completion_tokens; Ollama, vLLM, llama.cpp max_tokens. */
export function tokenLimitParam(
  options: Pick<OpenAiProviderOptions, 'tokenLimitParam' | 'apiStyle' | 'baseUrl'>,
): 'max_completion_tokens' | 'max_tokens' | undefined {
  const chosen = options.tokenLimitParam ?? 'auto';
  if (chosen === 'none') return undefined;
  if (chosen !== 'auto') return chosen;
  const openAi = options.apiStyle === 'azure' || new URL(options.baseUrl).hostname === 'api.openai.com';
  return openAi ? 'max_completion_tokens' : 'max_tokens';
}

/**
 * The tokens a call is assumed to have used when the service reports none
 * (a budget must still count it): the prompt at 4 characters a token, the
 * image by OpenAI's tile rule (85 + 170 per 512 px tile), and the whole
 * output limit — on the high side, as a budget wants.
 */
export function estimatedTokens(width: number, height: number) {
  const tiles = Math.ceil(width / 512) * Math.ceil(height / 512);
  const prompt = Math.ceil((OPENAI_PROMPT.length + 40) / 4);
  return { input_tokens: prompt + 85 + 170 * tiles, output_tokens: MAX_OUTPUT_TOKENS };
}

/** What a 2xx cost: from the usage it reported, else (prices set) an estimate from the request's size. */
function priced(
  tokens: ReturnType<typeof tokenUsage>,
  sent: { width: number; height: number },
  options: OpenAiProviderOptions,
) {
  const estimated =
    tokens === undefined && tokenCost({ input_tokens: 0, output_tokens: 0 }, options) !== null;
  const cost = tokenCost(
    tokens ?? (estimated ? estimatedTokens(sent.width, sent.height) : undefined),
    options,
  );
  return { cost, estimated };
}

/** The chat completion request: the fixed prompt and the image; nothing about the upload itself. */
function requestBody(options: OpenAiProviderOptions, jpeg: Buffer): Record<string, unknown> {
  const limit = tokenLimitParam(options);
  return {
    model: options.model,
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(limit ? { [limit]: MAX_OUTPUT_TOKENS } : {}),
    ...responseFormat(options.responseFormat),
    messages: [
      { role: 'system', content: OPENAI_PROMPT },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe this image.' },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${jpeg.toString('base64')}` } },
        ],
      },
    ],
  };
}

function authHeaders(options: OpenAiProviderOptions): Record<string, string> {
  if (!options.apiKey) return {};
  return options.apiStyle === 'azure'
    ? { 'api-key': options.apiKey }
    : { Authorization: `Bearer ${options.apiKey}` };
}

function describeOpenAi(options: OpenAiProviderOptions): ModelDescription[] {
  return [
    {
      task: 'medium, style, subject, mood, quality, caption, alt text, text',
      model: `${options.model} at ${new URL(options.baseUrl).origin} (${options.apiStyle})`,
      package: 'axios',
      version: null,
      licence: "the service's own terms",
      ...(options.apiKey || !options.baseUrl.startsWith('https://api.openai.com')
        ? {}
        : { unavailable: 'OPENAI_API_KEY is not set' }),
    },
  ];
}

export function createOpenAiProvider(options: OpenAiProviderOptions): AnalysisProvider {
  const http = createProviderHttp({
    provider: 'openai',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
    headers: authHeaders(options),
  });
  const path =
    options.apiStyle === 'azure'
      ? `/chat/completions?api-version=${encodeURIComponent(options.apiVersion)}`
      : '/chat/completions';
  const gate = new ProviderGate(options.concurrency, options.log);
  const drop = (field: string, why: string) =>
    gate.warn(`field:${field}`, { provider: 'openai', field, why }, 'openai answer field dropped');

  async function call(input: AnalysisInput): Promise<ProviderReport> {
    const jpeg = await analysisJpeg(input.image);
    const { width = 1, height = 1 } = await sharp(jpeg).metadata();
    const body = requestBody(options, jpeg);
    const { answer, requests } = await http.postJson(path, body, input.signal).catch((error: unknown) => {
      // A 2xx that could not be read (too big, not JSON): paid for, so priced like any answer.
      if (!(error instanceof PaidAnswerError)) throw error;
      const { cost, estimated } = priced(undefined, { width, height }, options);
      const usage = { request_bytes: jpeg.length, ...error.usage };
      throw new PaidAnswerError(error.message, usage, cost, estimated, { cause: error });
    });
    const tokens = tokenUsage(answer);
    const { cost, estimated } = priced(tokens, { width, height }, options);
    const usage = { request_bytes: jpeg.length, requests, ...(tokens ?? {}) };
    let fields;
    try {
      fields = openAiFields(answerJson(completionContent(answer)), drop);
    } catch (error) {
      // A refusal or prose without JSON: the tokens were spent all the same.
      throw new PaidAnswerError((error as Error).message, usage, cost, estimated, { cause: error });
    }
    const model = (answer as { model?: unknown }).model;
    return {
      fields,
      raw: answer,
      usedModels: Object.keys(fields).length > 0,
      version: typeof model === 'string' && model !== '' ? model.slice(0, 64) : options.model,
      usage,
      cost,
      ...(estimated ? { costEstimated: true } : {}),
    };
  }

  return {
    name: 'openai',
    version: options.model,
    billing: { model: options.model, promptVersion: OPENAI_PROMPT_VERSION, dailyBudget: options.dailyBudget },
    describe: () => describeOpenAi(options),
    analyse: (input) => gate.run(() => call(input), input.signal),
    close: () => Promise.resolve(),
  };
}
