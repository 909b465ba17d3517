/**
 * The main API over HTTP (CONTRACT.md). Every answer is classified by the
 * one table in errors.ts (classifyStatus): 401/403 AUTH, 429 RATE_LIMIT
 * (Retry-After honoured for the whole process), 404/410 GONE for files, any
 * other unexpected status TRANSIENT. Only the main API's own origin is ever
 * contacted; redirects elsewhere are refused. Bodies are bounded: the
 * pending list by PENDING_LIST_MAX_BYTES, a file by MAX_UPLOAD_BYTES (enforced by the
 * reader) and DOWNLOAD_DEADLINE_MS.
 */
import type { ClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import {
  GoneError,
  InvalidInputError,
  RateLimitError,
  TransientError,
  classifyStatus,
  findMediaError,
} from '../errors.js';
import type { CallbackResult } from '../db/records.js';
import type { MainApiAuthState } from './main-api-auth.js';
import { MainApiRateLimit } from './main-api-rate-limit.js';
import { readBounded } from './read-bounded.js';
import { DownloadDeadline } from './download-deadline.js';
import { tempFileUrl } from './temp-path.js';

export interface MainApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Idle timeout of one call (no bytes for this long). */
  timeoutMs: number;
  /** Total time a file download may take, headers to last byte. */
  downloadDeadlineMs: number;
  maxUploadBytes: number;
  /** Largest pending-list body accepted (decompressed). */
  pendingListMaxBytes: number;
  auth: MainApiAuthState;
}

/** What the main API said to a completion (CONTRACT.md §3). */
export type CompleteOutcome = CallbackResult;

const DEFAULT_RETRY_AFTER_MS = 30_000;
const MIN_RETRY_AFTER_MS = 1000;
const MAX_RETRY_AFTER_MS = 600_000;

/** Retry-After as seconds or an HTTP date; missing, negative or unreadable values mean the default. */
export function retryAfterMs(header: unknown, now = Date.now()): number {
  if (typeof header !== 'string' || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const value = header.trim();
  const ms = /^\d+$/.test(value)
    ? Number(value) * 1000
    : /[a-z]/i.test(value)
      ? Date.parse(value) - now
      : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, ms));
}

/** A redirect target's origin; IPv6 hosts arrive without their brackets. */
function redirectOrigin(redirect: {
  protocol?: string;
  hostname?: string;
  host?: string;
  port?: string | number;
}) {
  const host = redirect.hostname ?? redirect.host ?? '';
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = redirect.port ? `:${redirect.port}` : '';
  const target = `${redirect.protocol ?? ''}//${bracketed}${port}`;
  try {
    return { target, origin: new URL(target).origin };
  } catch {
    return { target, origin: undefined };
  }
}

export class MainApiClient {
  private readonly http: AxiosInstance;
  private readonly origin: string;
  private readonly rateLimit = new MainApiRateLimit();

  constructor(private readonly options: MainApiClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      headers: { Authorization: `Bearer ${options.apiKey}`, 'User-Agent': 'media-worker' },
      validateStatus: () => true,
      maxRedirects: 3,
      beforeRedirect: (redirect: { protocol?: string; hostname?: string; host?: string; port?: string }) => {
        const { target, origin } = redirectOrigin(redirect);
        if (origin !== this.origin)
          throw new InvalidInputError(`the main API redirected to another origin (${target}); not followed`);
      },
    });
  }

  /** The pending list's parsed JSON body (its shape is checked by parsePendingList). */
  async listPending(): Promise<unknown> {
    const what = 'the pending list';
    const response = await this.request<Readable>(
      { method: 'GET', url: '/api/media/pending/all', responseType: 'stream' },
      what,
    );
    if (response.status < 200 || response.status >= 300) {
      discard(response);
      throw new TransientError(`the main API answered ${response.status} to ${what}`);
    }
    const body = await readBounded(
      response.data,
      this.options.pendingListMaxBytes,
      `${what} (PENDING_LIST_MAX_BYTES)`,
    );
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new TransientError(
        `the main API sent ${what} as something other than JSON (${body.length} bytes)`,
      );
    }
  }

  /** The URL an image_path would be fetched from; INVALID_INPUT when it is not a same-origin temp path. */
  fileUrl(imagePath: string): string {
    return tempFileUrl(this.options.baseUrl, imagePath);
  }

  /**
   * The upload's bytes as a stream; the caller enforces the byte cap while
   * reading. The whole download, headers to last byte, must fit in
   * DOWNLOAD_DEADLINE_MS: a server trickling a byte every few seconds never
   * trips the idle timeout, and would hold a slot for ever.
   */
  async download(imagePath: string, signal?: AbortSignal): Promise<Readable> {
    const url = this.fileUrl(imagePath);
    const deadline = new DownloadDeadline(this.options.downloadDeadlineMs, imagePath, signal);
    try {
      const response = await this.request<Readable>(
        {
          method: 'GET',
          url,
          responseType: 'stream',
          signal: deadline.signal,
          // Images are compressed already; a gzip body is decoded by axios and still capped by the reader.
          headers: { 'Accept-Encoding': 'identity' },
        },
        `the file ${imagePath}`,
      );
      this.checkDownload(response, imagePath);
      deadline.watch(response.data);
      bindSocket(response);
      return response.data;
    } catch (error) {
      deadline.clear();
      throw deadline.reason() ?? error;
    }
  }

  private checkDownload(response: AxiosResponse<Readable>, imagePath: string): void {
    if (response.status === 200) {
      const declared = Number(response.headers['content-length']);
      if (!Number.isFinite(declared) || declared <= this.options.maxUploadBytes) return;
      discard(response);
      throw new InvalidInputError(
        `file is ${declared} bytes, larger than MAX_UPLOAD_BYTES=${this.options.maxUploadBytes}`,
      );
    }
    discard(response);
    const message = `the main API answered ${response.status} to the file ${imagePath}`;
    if (classifyStatus(response.status) === 'GONE')
      throw new GoneError(`the main API no longer has ${imagePath} (${response.status})`);
    throw new TransientError(message);
  }

  /**
   * POST complete (CONTRACT.md §3). A 400/422 to the rich body is retried
   * once with the minimal body the main API must accept; 409 "already
   * processed" counts as success; 404/410 means the main API no longer knows
   * the upload (our media stays, and is served). Anything else is thrown.
   */
  async reportComplete(mainApiId: number, mediaId: number, body: unknown): Promise<CompleteOutcome> {
    const what = `complete for upload ${mainApiId}`;
    let response = await this.postComplete(mainApiId, mediaId, body, what);
    let minimal = false;
    if (response.status === 400 || response.status === 422) {
      response = await this.postComplete(mainApiId, mediaId, { media_id: String(mediaId) }, what);
      minimal = true;
    }
    if (response.status >= 200 && response.status < 300) return minimal ? 'accepted_minimal' : 'accepted';
    if (response.status === 409) return 'already_processed';
    if (classifyStatus(response.status) === 'GONE') return 'upload_unknown';
    const bodies = minimal ? 'both the full and the minimal body' : 'the complete call';
    throw new TransientError(`the main API answered ${response.status} to ${bodies} for upload ${mainApiId}`);
  }

  private postComplete(mainApiId: number, mediaId: number, body: unknown, what: string) {
    return this.request(
      {
        method: 'POST',
        url: `/api/media/complete/${mainApiId}`,
        data: body,
        headers: { 'Idempotency-Key': `media-${mediaId}` },
      },
      what,
    );
  }

  /** DELETE cleanup (CONTRACT.md §4); an upload the main API no longer knows needs no cleanup. */
  async reportFailure(mainApiId: number): Promise<void> {
    const what = `cleanup of upload ${mainApiId}`;
    const response = await this.request({ method: 'DELETE', url: `/api/media/cleanup/${mainApiId}` }, what);
    if (response.status >= 200 && response.status < 300) return;
    if (classifyStatus(response.status) === 'GONE') return;
    throw new TransientError(`the main API answered ${response.status} to ${what}`);
  }

  private async request<T = unknown>(config: AxiosRequestConfig, what: string): Promise<AxiosResponse<T>> {
    this.options.auth.assertNotPaused();
    this.rateLimit.assertOpen(what);
    const sentAt = Date.now();
    let response: AxiosResponse<T>;
    try {
      response = await this.http.request<T>(config);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'network error';
      throw (
        findMediaError(error) ??
        new TransientError(`main API unreachable for ${what}: ${code} ${(error as Error).message}`, {
          cause: error,
        })
      );
    }
    const errorClass = classifyStatus(response.status);
    if (errorClass === 'AUTH') {
      discard(response);
      throw this.options.auth.refused(response.status, what);
    }
    if (errorClass === 'RATE_LIMIT') {
      discard(response);
      const waitMs = this.rateLimit.limited(retryAfterMs(response.headers['retry-after']));
      throw new RateLimitError(`the main API rate-limited ${what} (429)`, waitMs);
    }
    this.rateLimit.answered();
    if (response.status < 500) this.options.auth.accepted(sentAt);
    return response;
  }
}

/** Drops an answer's body and its connection: unread data must not keep a socket open. */
function discard(response: AxiosResponse): void {
  const data = response.data as { destroy?: () => void } | undefined;
  if (data && typeof data.destroy === 'function') data.destroy();
  (response.request as ClientRequest | undefined)?.destroy?.();
}

/** Destroying the body (a reader gave up: too large, not an image, deadline) closes the socket too. */
function bindSocket(response: AxiosResponse<Readable>): void {
  const body = response.data;
  body.once('close', () => {
    if (!body.readableEnded) (response.request as ClientRequest | undefined)?.destroy?.();
  });
}
