/**
 * The answers /serve gives when it cannot send a variant. None of them may be
 * cached: a 404 for a file cleanup will restore, a 503 during a database
 * outage or a 500 for a damaged file would otherwise be kept by a CDN for the
 * year the success headers promise. So every one is `no-store`, without the
 * validators (ETag, Last-Modified) that would let a client revalidate it.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Headers that belong to a variant, never to an error about it. */
const VARIANT_HEADERS = ['etag', 'last-modified', 'cache-control', 'vary', 'content-type', 'content-length'];

/** How long a client should wait before asking again while the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

export interface ServeErrorBody {
  error: string;
  message: string;
  [field: string]: unknown;
}

/**
 * Drops the variant's headers from the reply and from the raw response: a
 * stream that fails on its first read has already copied them there.
 */
function forgetVariantHeaders(reply: FastifyReply): void {
  for (const name of VARIANT_HEADERS) {
    reply.removeHeader(name);
    if (!reply.raw.headersSent) reply.raw.removeHeader(name);
  }
}

export function sendServeError(reply: FastifyReply, status: number, body: ServeErrorBody): FastifyReply {
  forgetVariantHeaders(reply);
  reply.code(status).header('Cache-Control', 'no-store');
  if (status === 503) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return reply.send(body);
}

/**
 * The route's error handler: whatever was thrown (a read that failed before
 * the first byte, a bug) becomes a short JSON 500 that names no internals;
 * the details go to the log. A failure after the headers were sent cannot be
 * answered: fastify destroys the connection, and the Content-Length the
 * client was promised tells it (and any cache) that the body is incomplete.
 */
export function serveErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { mediaId } = request.params as { mediaId?: string };
  request.log.error({ err: error, mediaId, url: request.url }, 'serve failed');
  void sendServeError(reply, 500, {
    error: 'internal',
    message: 'the variant could not be read; try again later',
  });
}
