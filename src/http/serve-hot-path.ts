/**
 * /serve's hot path: a plain GET or HEAD for a variant this process already
 * knows (the lookup cache, variant-lookup.ts) and holds in memory
 * (SERVE_MEMORY_CACHE_MB) is answered on Node's request event, before
 * fastify builds a request, a reply and their hooks for it: in the profile
 * that machinery cost about as much as the rest of a hit
 * (docs/serving-performance.md). Anything else goes on to the /serve route,
 * which answers every case and fills the memory: a first request, a range,
 * a bad or repeated parameter, an unknown, unfinished or deleted item, an
 * on-demand size, a server that is closing. The answer is made of the
 * route's own parts (parseServeRequest, chooseVariant, matchesEtag, the
 * prebuilt headers), so the two cannot disagree on what a request means.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import { answerHeaders } from './serve-headers.js';
import { chooseVariant, matchesEtag, parseServeRequest, type ServeQuery } from './serve-request.js';
import type { ServableVariant, VariantLookup } from './variant-lookup.js';

export interface HotPathOptions {
  lookup: VariantLookup;
  /** The whole body of a variant when memory holds it (never a file open or a fill). */
  held: (variant: ServableVariant) => Buffer | undefined;
  onServed: (status: number, format: string, seconds: number) => void;
  /** One hit answered here, for serve_memory_hits_total. */
  onHit: () => void;
}

const PREFIX = '/serve/';

export class ServeHotPath {
  private closing = false;

  constructor(private readonly options: HotPathOptions) {}

  /** From the server's close: every later request goes to fastify, which answers 503 and closes the connection. */
  stop(): void {
    this.closing = true;
  }

  /** Answers the request and says true, or leaves it untouched and says false. */
  answer(request: IncomingMessage, response: ServerResponse): boolean {
    try {
      return this.tryAnswer(request, response);
    } catch {
      // Nothing here should throw; if something does, the route (with its error handling and
      // logging) answers instead, unless this answer had already begun.
      if (!response.headersSent) return false;
      response.destroy();
      return true;
    }
  }

  private tryAnswer(request: IncomingMessage, response: ServerResponse): boolean {
    const started = performance.now();
    const method = request.method;
    if (this.closing || (method !== 'GET' && method !== 'HEAD')) return false;
    const url = request.url;
    if (url === undefined || !url.startsWith(PREFIX) || request.headers.range !== undefined) return false;
    const hit = this.find(url, request.headers.accept);
    if (!hit) return false;
    const { variant, body, negotiated } = hit;
    const notModified = matchesEtag(request.headers['if-none-match'], variant.etag);
    const status = notModified ? 304 : 200;
    response.writeHead(status, answerHeaders(variant, notModified, negotiated));
    // Node sends no body for HEAD (the Content-Length stays) nor for a 304.
    response.end(notModified ? undefined : body);
    this.options.onHit();
    this.options.onServed(status, variant.format, (performance.now() - started) / 1000);
    return true;
  }

  private find(url: string, accept: string | undefined) {
    const queryAt = url.indexOf('?');
    const rawId = url.slice(PREFIX.length, queryAt < 0 ? undefined : queryAt);
    const query = queryAt < 0 ? {} : parse(url.slice(queryAt + 1));
    // A repeated parameter parses to an array: the route's validation names it.
    const { size, format, bg } = query;
    if (Array.isArray(size) || Array.isArray(format) || Array.isArray(bg)) return undefined;
    const parsed = parseServeRequest(rawId, { size, format, bg } as ServeQuery);
    if ('parameter' in parsed) return undefined;
    const lookup = this.options.lookup.cached(parsed.mediaId);
    if (lookup?.state !== 'ready') return undefined;
    const variant = chooseVariant(lookup.variants, parsed, accept);
    if ('error' in variant || variant.onDemand) return undefined;
    const body = this.options.held(variant);
    return body && { variant, body, negotiated: parsed.format === undefined };
  }
}
