/**
 * The main API over HTTP (CONTRACT.md), with every answer classified by what
 * it changes: 401/403 AUTH, 429 RATE_LIMIT (Retry-After honoured), 404/410
 * GONE for files, 5xx/timeouts/resets TRANSIENT. Only the main API's own
 * origin is ever contacted; redirects elsewhere are refused.
 */
import type { Readable } from 'node:stream';
import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { GoneError, InvalidInputError, RateLimitError, TransientError } from '../errors.js';
import type { MainApiAuthState } from './main-api-auth.js';
import { tempFileUrl } from './temp-path.js';

export interface MainApiClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxUploadBytes: number;
  auth: MainApiAuthState;
}

const DEFAULT_RETRY_AFTER_MS = 30_000;

export function retryAfterMs(header: unknown, now = Date.now()): number {
  if (typeof header !== 'string' || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(600_000, Math.max(1000, ms)) : DEFAULT_RETRY_AFTER_MS;
}

export class MainApiClient {
  private readonly http: AxiosInstance;
  private readonly origin: string;

  constructor(private readonly options: MainApiClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      headers: { Authorization: `Bearer ${options.apiKey}`, 'User-Agent': 'media-worker' },
      validateStatus: () => true,
      maxRedirects: 3,
      beforeRedirect: (redirect: {
        protocol?: string;
        hostname?: string;
        port?: string | number;
        host?: string;
      }) => {
        const port = redirect.port ? `:${redirect.port}` : '';
        const target = `${redirect.protocol ?? ''}//${redirect.hostname ?? redirect.host ?? ''}${port}`;
        if (new URL(target).origin !== this.origin)
          throw new InvalidInputError(`the main API redirected to another origin (${target}); not followed`);
      },
    });
  }

  async listPending(): Promise<unknown> {
    const response = await this.request(
      { method: 'GET', url: '/api/media/pending/all', responseType: 'json' },
      'the pending list',
    );
    this.throwUnlessOk(response, 'the pending list');
    return response.data;
  }

  /** The URL an image_path would be fetched from; INVALID_INPUT when it is not a same-origin temp path. */
  fileUrl(imagePath: string): string {
    return tempFileUrl(this.options.baseUrl, imagePath);
  }

  /** The upload's bytes as a stream; the caller enforces the byte cap while reading. */
  async download(imagePath: string, signal?: AbortSignal): Promise<Readable> {
    const url = this.fileUrl(imagePath);
    const response = await this.request<Readable>(
      { method: 'GET', url, responseType: 'stream', ...(signal ? { signal } : {}) },
      `the file ${imagePath}`,
    );
    if (response.status === 404 || response.status === 410) {
      response.data.destroy();
      throw new GoneError(`the main API no longer has ${imagePath} (${response.status})`);
    }
    if (response.status !== 200) response.data.destroy();
    this.throwUnlessOk(response, `the file ${imagePath}`);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.options.maxUploadBytes) {
      response.data.destroy();
      throw new InvalidInputError(
        `file is ${declared} bytes, larger than MAX_UPLOAD_BYTES=${this.options.maxUploadBytes}`,
      );
    }
    return response.data;
  }

  /** POST complete (CONTRACT.md §3); a 409 "already processed" counts as success. */
  async reportComplete(
    mainApiId: number,
    mediaId: number,
    body: unknown,
  ): Promise<'reported' | 'already-processed'> {
    const what = `complete for upload ${mainApiId}`;
    const response = await this.request(
      {
        method: 'POST',
        url: `/api/media/complete/${mainApiId}`,
        data: body,
        headers: { 'Idempotency-Key': `media-${mediaId}` },
      },
      what,
    );
    if (response.status === 409) return 'already-processed';
    this.throwUnlessOk(response, what);
    return 'reported';
  }

  /** DELETE cleanup (CONTRACT.md §4); an upload the main API no longer knows needs no cleanup. */
  async reportFailure(mainApiId: number): Promise<void> {
    const what = `cleanup of upload ${mainApiId}`;
    const response = await this.request({ method: 'DELETE', url: `/api/media/cleanup/${mainApiId}` }, what);
    if (response.status === 404 || response.status === 410) return;
    this.throwUnlessOk(response, what);
  }

  private async request<T = unknown>(config: AxiosRequestConfig, what: string): Promise<AxiosResponse<T>> {
    this.options.auth.assertNotPaused();
    let response: AxiosResponse<T>;
    try {
      response = await this.http.request<T>(config);
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      const cause =
        error instanceof AxiosError && error.cause instanceof InvalidInputError ? error.cause : undefined;
      if (cause) throw cause;
      const code = (error as { code?: string }).code ?? 'network error';
      throw new TransientError(`main API unreachable for ${what}: ${code} ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 401 || response.status === 403) {
      if (config.responseType === 'stream') (response.data as Readable).destroy();
      throw this.options.auth.refused(response.status, what);
    }
    this.options.auth.accepted();
    if (response.status === 429) {
      if (config.responseType === 'stream') (response.data as Readable).destroy();
      throw new RateLimitError(
        `the main API rate-limited ${what} (429)`,
        retryAfterMs(response.headers['retry-after']),
      );
    }
    return response;
  }

  private throwUnlessOk(response: AxiosResponse, what: string): void {
    if (response.status >= 200 && response.status < 300) return;
    const message = `the main API answered ${response.status} to ${what}`;
    if (response.status >= 500 || response.status === 408) throw new TransientError(message);
    throw new InvalidInputError(message);
  }
}
