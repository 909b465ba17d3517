/**
 * The google provider: Google Cloud Vision `POST {base}/v1/images:annotate`
 * with LABEL_DETECTION, OBJECT_LOCALIZATION, TEXT_DETECTION,
 * IMAGE_PROPERTIES and SAFE_SEARCH_DETECTION on the resized, metadata-free
 * JPEG (the only thing sent). Google bills per feature per image: each
 * feature is one unit, so one call is five units (GOOGLE_VISION_PRICE_PER_1K_UNITS).
 */
import sharp from 'sharp';
import type { Logger } from '../log.js';
import type { AnalysisInput, AnalysisProvider, ProviderReport } from './analysis-provider.js';
import {
  GOOGLE_FEATURES,
  GOOGLE_PROMPT_VERSION,
  googleFields,
  imageError,
  isGoogleAuthFailure,
} from './google-answer.js';
import { ProviderGate } from './provider-gate.js';
import { PaidAnswerError, createProviderHttp } from './provider-http.js';
import { analysisJpeg } from './provider-image.js';

export interface GoogleVisionProviderOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  concurrency: number;
  pricePer1kUnits: number | undefined;
  dailyBudget: number | undefined;
  log: Logger;
}

/** Text detection on a poster answers every word with its box: a few MB at most. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
const API = 'images:annotate';

export function unitCost(units: number, pricePer1kUnits: number | undefined): number | null {
  return pricePer1kUnits === undefined ? null : Math.round((units / 1000) * pricePer1kUnits * 1e9) / 1e9;
}

export function createGoogleVisionProvider(options: GoogleVisionProviderOptions): AnalysisProvider {
  const http = createProviderHttp({
    provider: 'google',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxAnswerBytes: MAX_ANSWER_BYTES,
    // In a header, not the URL: URLs end up in logs, proxies and error messages.
    headers: { 'X-Goog-Api-Key': options.apiKey },
    isAuthFailure: isGoogleAuthFailure,
  });
  const gate = new ProviderGate(options.concurrency, options.log);

  async function call(input: AnalysisInput): Promise<ProviderReport> {
    const jpeg = await analysisJpeg(input.image);
    const { width = 1, height = 1 } = await sharp(jpeg).metadata();
    const body = { requests: [{ image: { content: jpeg.toString('base64') }, features: GOOGLE_FEATURES }] };
    const units = GOOGLE_FEATURES.length;
    const cost = unitCost(units, options.pricePer1kUnits);
    const { answer, requests } = await http
      .postJson(`/v1/${API}`, body, input.signal)
      .catch((error: unknown) => {
        // A 2xx that could not be read: billed as a whole call.
        if (!(error instanceof PaidAnswerError)) throw error;
        const usage = { request_bytes: jpeg.length, units, ...error.usage };
        throw new PaidAnswerError(error.message, usage, cost, false, { cause: error });
      });
    const usage = { request_bytes: jpeg.length, requests, units };
    let fields;
    try {
      fields = googleFields(answer, { width, height });
    } catch (error) {
      throw new PaidAnswerError((error as Error).message, usage, cost, false, { cause: error });
    }
    const failed = imageError(answer);
    // A per-image error with nothing else answered: a failed call (counted, at no cost: no feature answered).
    if (failed && Object.keys(fields).length <= 1)
      throw new PaidAnswerError(`google could not annotate the image: ${failed}`, { ...usage, units: 0 }, 0);
    return {
      fields,
      raw: answer,
      usedModels: true,
      version: API,
      usage: { ...usage, ...(failed ? { image_error: failed } : {}) },
      cost,
    };
  }

  return {
    name: 'google',
    version: API,
    billing: { model: API, promptVersion: GOOGLE_PROMPT_VERSION, dailyBudget: options.dailyBudget },
    describe: () => [
      {
        task: 'objects, text, dominant colours, moderation, labels',
        model: `Google Cloud Vision at ${new URL(options.baseUrl).origin}`,
        package: 'axios',
        version: null,
        licence: "Google Cloud's terms",
      },
    ],
    analyse: (input) => gate.run(() => call(input), input.signal),
    close: () => Promise.resolve(),
  };
}
