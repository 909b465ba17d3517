/**
 * The HTTP side of a paid analysis provider (openai, google): one POST of
 * JSON to the configured service, and its answer classified. Only the
 * configured base URL's origin is ever contacted and redirects are not
 * followed (an answer must not send the image, or the key, elsewhere);
 * answers are capped in bytes. A 2xx is never retried: it has been paid for,
 * and one that cannot be read is thrown as a PaidAnswerError carrying what
 * the call used, so that its cost is still counted (billed-run.ts).
 *
 * Nothing that may have reached the server is sent again (it may be billed
 * again): a timeout, a reset after the request went out, a 5xx or a 408 fail
 * the call at once (TRANSIENT). Neither OpenAI nor Google documents a 5xx as
 * unbilled, so none is retried. Only what never reached it is retried (2 more
 * tries): connection refused, a DNS failure. One deadline (`timeoutMs`)
 * covers the whole call, tries and waits included.
 * - 429: waited for when Retry-After is short (≤ 2 s; a rate-limited request
 *   is refused before any work), else RATE_LIMIT with the wait (seconds or an
 *   HTTP date, capped at 10 min);
 * - 401, 403 (and what `isAuthFailure` recognises): AUTH;
 * - 400: ProviderRequestError (the request is wrong: a parameter this model
 *   refuses, say), not retried; the provider is paused (billed-run.ts);
 * - any other status: TRANSIENT, not retried (the request will not change).
 */
import axios, { type AxiosInstance } from 'axios';
import { AuthError, RateLimitError, TransientError, codeInChain } from '../errors.js';
import { dataText } from './provider-text.js';

/**
 * A 2xx answer that could not be used (not JSON, too big, a refusal, no JSON
 * object in it): the call was made and is billed. Carries what it used and,
 * once the provider has priced it, its cost (estimated or not).
 */
export class PaidAnswerError extends TransientError {
  constructor(
    message: string,
    readonly usage: Record<string, unknown>,
    readonly cost: number | null = null,
    readonly costEstimated = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The service refused the request itself (400): a setting of ours is wrong
 * (a parameter the model does not take), not the upload and not the network.
 * Retrying will not help until an operator changes it, like a bad key: so
 * AUTH-class (the operator must act), paused and warned like one.
 */
export class ProviderRequestError extends AuthError {}

/** Connection failures that happen before the request is sent: safe to try again, nothing can be billed. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** An answer over the byte limit arrived whole, and was paid for. */
function tooBig(name: string, maxBytes: number, attempt: number, cause: unknown): PaidAnswerError {
  return new PaidAnswerError(
    `${name} answered more than ${maxBytes} bytes`,
    { requests: attempt },
    null,
    false,
    {
      cause,
    },
  );
}

/** A reset or a timeout may come after the server got the request (it may bill it): only these are sent again. */
function neverSent(error: unknown): boolean {
  const code = codeInChain(error);
  return code !== undefined && NEVER_SENT.has(code);
}

export interface ProviderHttpOptions {
  provider: string;
  baseUrl: string;
  timeoutMs: number;
  maxAnswerBytes: number;
  headers: Record<string, string>;
  /** A service that says "bad key" with another status (Google: 400 API_KEY_INVALID). */
  isAuthFailure?: (status: number, body: unknown) => boolean;
}

export interface ProviderHttp {
  /** POSTs `body` as JSON to `path` under the base URL; the parsed JSON answer and the HTTP tries it took. */
  postJson(path: string, body: unknown, signal?: AbortSignal): Promise<{ answer: unknown; requests: number }>;
}

const TRIES = 3;
const SHORT_RETRY_AFTER_MS = 2_000;
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
const DEFAULT_RETRY_AFTER_MS = 30_000;

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(Number(text) * 1000));
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

/** The service's own error message (OpenAI and Google both answer {error: {message}}), as one short line of data. */
export function serviceMessage(body: unknown): string {
  const error = (body as { error?: unknown } | null)?.error;
  const message =
    typeof error === 'string' ? error : (error as { message?: unknown } | null | undefined)?.message;
  return dataText(message, 200, false) ?? '';
}

function parseBody(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/** The URL of `path` under the base URL, refused if it would leave the base URL's origin. */
function targetUrl(baseUrl: string, path: string): string {
  const base = new URL(baseUrl);
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  if (url.origin !== base.origin) throw new TransientError(`refusing to contact ${url.origin}`);
  return url.toString();
}

export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const http: AxiosInstance = axios.create({
    maxRedirects: 0,
    maxContentLength: options.maxAnswerBytes,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    headers: { 'User-Agent': 'media-worker', 'Content-Type': 'application/json', ...options.headers },
  });
  const name = options.provider;
  return {
    async postJson(path, body, signal) {
      const url = targetUrl(options.baseUrl, path);
      const payload = JSON.stringify(body);
      // One deadline for the whole call (every try and wait), ended early by the step's signal.
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const callSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
      for (let attempt = 1; ; attempt++) {
        const last = attempt >= TRIES;
        let response;
        try {
          response = await http.post(url, payload, { signal: callSignal });
        } catch (error) {
          // An answer over the byte limit arrived whole (and was paid for): not asked again.
          if ((error as { code?: unknown }).code === 'ERR_BAD_RESPONSE')
            throw tooBig(name, options.maxAnswerBytes, attempt, error);
          if (signal?.aborted) throw error;
          if (deadline.aborted)
            throw new TransientError(`${name}: timeout of ${options.timeoutMs}ms exceeded`);
          if (last || !neverSent(error)) throw error;
          await sleep(500 * attempt, callSignal);
          continue;
        }
        const answer = parseBody(response.data);
        const { status } = response;
        if (status >= 200 && status < 300) {
          if (answer === undefined)
            throw new PaidAnswerError(`${name} answered ${status} with a body that is not JSON`, {
              requests: attempt,
            });
          return { answer, requests: attempt };
        }
        const said = serviceMessage(answer);
        const what = `${name} answered ${status}${said ? `: ${said}` : ''}`;
        if (status === 401 || status === 403 || options.isAuthFailure?.(status, answer))
          throw new AuthError(what);
        if (status === 429) {
          const waitMs = parseRetryAfter(response.headers['retry-after']) ?? DEFAULT_RETRY_AFTER_MS;
          if (waitMs > SHORT_RETRY_AFTER_MS || last) throw new RateLimitError(what, waitMs);
          await sleep(waitMs, callSignal);
          continue;
        }
        if (status === 400) throw new ProviderRequestError(what);
        throw new TransientError(what);
      }
    },
  };
}
