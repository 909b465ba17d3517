/**
 * GET/HEAD /serve/:mediaId?size=&format=&bg= — one variant, streamed from
 * storage (a bucket through the local read-through cache), with a strong
 * ETag, immutable caching and single byte ranges (206). Explicit parameters
 * win; otherwise Accept decides the format (negotiate.ts). Every answer that
 * is not the variant (or a 304 for it) is no-store (serve-errors.ts). With
 * PUBLIC_MEDIA_BASE_URL the chosen variant is a redirect to the CDN instead.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Logger } from '../log.js';
import { RepeatedProblem } from '../repeated-problem.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from './byte-range.js';
import { resolveOnDemand } from './on-demand-variant.js';
import { sendServeError, serveErrorHandler, type ServeErrorBody } from './serve-errors.js';
import { answerHeaders } from './serve-headers.js';
import { chooseVariant, matchesEtag, parseServeRequest, type ServeQuery } from './serve-request.js';
import { discardObject, openVariantFile, type VariantFile, type VariantOpener } from './variant-file.js';
import type { ItemLookup, ServableVariant, VariantLookup } from './variant-lookup.js';

export interface ServeRouteOptions {
  openVariant: VariantOpener;
  lookup: VariantLookup;
  /** PUBLIC_MEDIA_BASE_URL: answer 302 to `<base>/<key>` instead of sending bytes. */
  publicBaseUrl?: string;
  onServed: (status: number, format: string, seconds: number) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The format /serve answered with ('none' for an error), for its metrics. */
    servedFormat: string;
  }
}

export function registerServeRoute(app: FastifyInstance, options: ServeRouteOptions): void {
  const databaseProblem = new RepeatedProblem(app.log as Logger, 'serve: the database did not answer');
  app.decorateRequest('servedFormat', 'none');
  app.get<{ Params: { mediaId: string }; Querystring: ServeQuery }>(
    '/serve/:mediaId',
    {
      errorHandler: serveErrorHandler,
      // fastify listens for the response's end anyway; a listener of our own per hit would cost more.
      onResponse: (request, reply, done) => {
        options.onServed(reply.statusCode, request.servedFormat, reply.elapsedTime / 1000);
        done();
      },
      schema: {
        summary: 'A variant’s bytes: size, format (or Accept negotiation), bg; immutable caching, ranges',
        tags: ['serve'],
        description:
          'Query: size = thumbnail | small | grid | detail | header | zoom (default thumbnail; a size ' +
          'the item lacks falls back to detail); format = avif | webp | jpeg | jpg | png (default: ' +
          'negotiated from Accept); bg = original | removed. A wrong parameter is a 400 naming it.',
      },
    },
    async (request, reply) => {
      const parsed = parseServeRequest(request.params.mediaId, request.query);
      if ('parameter' in parsed) return sendServeError(reply, 400, { error: 'bad_request', ...parsed });
      const { mediaId } = parsed;

      // A known item is answered from memory without awaiting anything (variant-lookup.ts).
      let lookup: ItemLookup | undefined = options.lookup.cached(mediaId);
      if (!lookup) {
        try {
          lookup = await options.lookup.find(mediaId);
          databaseProblem.resolved('serve: the database answers again');
        } catch (error) {
          // Under traffic this fails on every request: one line per interval, with a count.
          databaseProblem.report(error, { mediaId });
          return sendServeError(reply, 503, {
            error: 'unavailable',
            message: 'the media database is not answering; try again shortly',
          });
        }
      }
      if (lookup.state !== 'ready') return sendServeError(reply, ...refusalFor(lookup, mediaId));

      const accept = request.headers.accept;
      let variant = chooseVariant(lookup.variants, parsed, accept);
      if (!('error' in variant) && variant.onDemand)
        variant = await resolveOnDemand(options.lookup, lookup, variant, {
          parsed,
          accept,
          log: request.log as Logger,
        });
      if ('error' in variant)
        return sendServeError(reply, variant.status, { error: variant.error, message: variant.message });
      request.servedFormat = variant.format;
      return sendVariant(request, reply, options, {
        mediaId,
        variant,
        negotiated: parsed.format === undefined,
      });
    },
  );
}

function refusalFor(
  lookup: Exclude<ItemLookup, { state: 'ready' }>,
  mediaId: number,
): [number, ServeErrorBody] {
  switch (lookup.state) {
    case 'unknown':
      return [404, { error: 'not_found', message: `no media item ${mediaId}` }];
    case 'deleted':
      return [410, { error: 'gone', message: `media item ${mediaId} was deleted` }];
    case 'not-ready':
      return [
        404,
        { error: 'not_ready', message: `media item ${mediaId} is not processed yet (${lookup.status})` },
      ];
  }
}

/** The variant's object, opened first: no header about the variant (304 included) goes out before it is known to be there. */
async function sendVariant(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ServeRouteOptions,
  { mediaId, variant, negotiated }: { mediaId: number; variant: ServableVariant; negotiated: boolean },
) {
  if (options.publicBaseUrl) return redirectToPublicCopy(reply, options.publicBaseUrl, variant, negotiated);
  const revalidation = matchesEtag(request.headers['if-none-match'], variant.etag);
  const asked =
    request.method === 'GET' && !revalidation ? rangeOf(request, variant) : { kind: 'whole' as const };
  const file = await openVariantFile(
    options.openVariant,
    variant,
    asked.kind === 'range' ? asked.range : undefined,
  );
  if (file.state !== 'open') return refuseUnopenedFile(request, reply, options, { mediaId, variant, file });
  const { object } = file;
  if (asked.kind === 'unsatisfiable') {
    discardObject(object);
    return refuseUnopenedFile(request, reply, options, {
      mediaId,
      variant,
      file: { state: 'unsatisfiable' },
    });
  }
  reply.headers(answerHeaders(variant, revalidation, negotiated));
  if (revalidation) {
    discardObject(object);
    return reply.code(304).send();
  }
  if (request.method === 'HEAD') {
    discardObject(object);
    // An empty reply.send() would rewrite Content-Length to 0: write the head ourselves.
    reply.hijack();
    reply.raw.writeHead(200, reply.getHeaders() as OutgoingHttpHeaders);
    reply.raw.end();
    return;
  }
  if ('body' in object) return reply.send(object.body);
  if (object.range) {
    const { start, end } = object.range;
    reply
      .code(206)
      .header('Content-Range', `bytes ${start}-${end}/${variant.bytes}`)
      .header('Content-Length', end - start + 1);
  }
  // A read error before the first byte reaches serveErrorHandler (500, no-store); one after it aborts the response.
  return reply.send(object.stream);
}

/** The Range asked for, against the recorded size; a 416 is answered from that alone. */
function rangeOf(request: FastifyRequest, variant: ServableVariant) {
  const ifRange = request.headers['if-range'];
  return parseRange(
    request.headers.range,
    typeof ifRange === 'string' ? ifRange : undefined,
    variant.etag,
    variant.bytes,
  );
}

/**
 * The CDN (or public bucket) serves the key itself; this answer only picks
 * the variant. Cached for an hour per Accept, so a deletion or a re-render is
 * seen there within that hour (the CDN's own copy follows its own rules).
 */
function redirectToPublicCopy(
  reply: FastifyReply,
  base: string,
  variant: ServableVariant,
  negotiated: boolean,
) {
  if (negotiated) reply.header('Vary', 'Accept');
  const location = `${base.replace(/\/+$/, '')}/${variant.path.split('/').map(encodeURIComponent).join('/')}`;
  return reply.code(302).header('Location', location).header('Cache-Control', 'public, max-age=3600').send();
}

function refuseUnopenedFile(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ServeRouteOptions,
  {
    mediaId,
    variant,
    file,
  }: { mediaId: number; variant: ServableVariant; file: Exclude<VariantFile, { state: 'open' }> },
) {
  const context = { mediaId, path: variant.path, ...('detail' in file ? { detail: file.detail } : {}) };
  if (file.state === 'unsatisfiable') {
    return sendServeError(reply.header('Content-Range', `bytes */${variant.bytes}`), 416, {
      error: 'range_not_satisfiable',
      message: `the range asked for is outside the ${variant.bytes} bytes of this variant`,
    });
  }
  if (file.state === 'unreadable') {
    request.log.error(context, 'variant file could not be opened');
    return sendServeError(reply, 503, {
      error: 'unavailable',
      message: `the file of media item ${mediaId} cannot be read right now; try again shortly`,
    });
  }
  options.lookup.invalidate(mediaId);
  if (file.state === 'damaged') {
    request.log.error(context, 'variant file damaged on disk');
    return sendServeError(reply, 500, {
      error: 'file_damaged',
      message: `the file of media item ${mediaId} is damaged`,
    });
  }
  request.log.error(context, 'variant file missing on disk');
  return sendServeError(reply, 404, {
    error: 'file_missing',
    message: `the file of media item ${mediaId} is missing`,
  });
}
