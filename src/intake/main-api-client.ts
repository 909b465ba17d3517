/**
 * The main API over HTTP (CONTRACT.md). Every answer is classified by the
 * one table in errors.ts (classifyStatus): 401/403 AUTH, 429 RATE_LIMIT
 * (Retry-After honoured for the whole process), 404/410 GONE for files, any
 * other unexpected status TRANSIENT. Only the main API's own origin is ever
 * contacted; redirects elsewhere are refused. Bodies are bounded: the
 * pending list by PENDING_LIST_MAX_BYTES, a file by MAX_UPLOAD_BYTES (enforced by the
 * reader) and DOWNLOAD_DEADLINE_MS.
 */
import type { Readable } from 'node:stream';
import type { OpenedSource } from '../steps/retrieve.js';
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
import type { Logger } from '../log.js';
import type { MainApiAuthState } from './main-api-auth.js';
import { MainApiBreaker } from './main-api-breaker.js';
import { MainApiRateLimit, retryAfterMs } from './main-api-rate-limit.js';
import { bindSocket, discard } from './response-body.js';
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
  /** Where the client's gates say when they close (once per closing, not per call). */
  log?: Logger;
}

/** What the main API said to a completion (CONTRACT.md §3). */
export type CompleteOutcome = CallbackResult;

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
  private readonly breaker: MainApiBreaker;

  constructor(private readonly options: MainApiClientOptions) {
    this.origin = new URL(options.baseUrl).origin;
    this.breaker = new MainApiBreaker(options.log);
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      headers: { Authorization: `Bearer ${options.apiKey}`, 'User-Agent': 'media-worker' },
      validateStatus: () => true,
      maxRedirects: 3,
      beforeRedirect: (redirect: { protocol?: string; hostname?: string; host?: string; port?: string }) => {
        const { target, origin } = redirectOrigin(redirect);
        // Never followed (no SSRF), but not the upload's fault either: a redirect is how the main
        // API is deployed (a CDN, http→https), so it is retried and visible, never a permanent failure.
        if (origin !== this.origin)
          throw new TransientError(
            `the main API redirected to another origin (${target}); not followed (check MAIN_API_URL and the main API's redirects)`,
          );
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

  /**
   * Until when this process holds main API calls back (auth pause, 429
   * gate, open breaker), or 0. The runner asks before a step starts, so a
   * held-back item is given back once, without an attempt or a 'started'.
   */
  heldUntilMs(now = Date.now()): number {
    return Math.max(
      this.options.auth.pausedUntilMs(now),
      this.rateLimit.closedUntilMs(now),
      this.breaker.openUntilMs(now),
    );
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
  async download(imagePath: string, signal?: AbortSignal): Promise<OpenedSource> {
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
      // Without a length or chunked framing the body ends with the connection: a cut-off looks
      // like the end, so the retrieve step checks that the image decodes whole.
      const endKnown =
        response.headers['content-length'] !== undefined ||
        /chunked/i.test(String(response.headers['transfer-encoding'] ?? ''));
      return { stream: response.data, endKnown };
    } catch (error) {
      deadline.clear();
      throw deadline.reason() ?? error;
    }
  }

  private checkDownload(response: AxiosResponse<Readable>, imagePath: string): void {
    if (response.status === 200) {
      const type = String(response.headers['content-type'] ?? '').toLowerCase();
      if (/^(text\/html|application\/(problem\+)?json)\b/.test(type)) {
        // A maintenance page or an API error with a 200: the server's answer, not the uploaded file.
        discard(response);
        throw new TransientError(
          `the main API answered ${imagePath} with a ${type} page, not the file; will retry`,
        );
      }
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
    this.breaker.assertClosed(what);
    const sentAt = Date.now();
    let response: AxiosResponse<T>;
    try {
      response = await this.http.request<T>(config);
    } catch (error) {
      const ours = findMediaError(error);
      if (ours) throw ours;
      const code = (error as { code?: string }).code ?? 'network error';
      const message = `main API unreachable for ${what}: ${code} ${(error as Error).message}`;
      // Our own abort (deadline, shutdown) says nothing about the main API's health.
      if (config.signal?.aborted) throw new TransientError(message, { cause: error });
      throw this.breaker.failed(message);
    }
    if (response.status >= 500) {
      const failure = this.breaker.failed(`the main API answered ${response.status} to ${what}`);
      // Below the threshold the caller's own status handling decides; above it, nobody pays an attempt.
      if (failure instanceof RateLimitError) {
        discard(response);
        throw failure;
      }
    } else this.breaker.answered();
    const errorClass = classifyStatus(response.status);
    if (errorClass === 'AUTH') {
      discard(response);
      throw this.options.auth.refused(response.status, what);
    }
    if (errorClass === 'RATE_LIMIT') {
      discard(response);
      const waitMs = this.rateLimit.limited(retryAfterMs(response.headers['retry-after']));
      this.options.log?.warn({ waitMs }, `the main API rate-limited ${what} (429): holding its calls back`);
      throw new RateLimitError(`the main API rate-limited ${what} (429)`, waitMs);
    }
    this.rateLimit.answered();
    if (response.status < 500) this.options.auth.accepted(sentAt);
    return response;
  }
}
