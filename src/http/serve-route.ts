/**
 * GET/HEAD /serve/:mediaId?size=&format=&bg= — one variant, streamed from
 * disk, with a strong ETag and immutable caching. Explicit parameters win;
 * otherwise Accept decides the format (negotiate.ts).
 */
import fsp from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONTENT_TYPE, type Background, type OutputFormat, type SizeName } from '../images/presets.js';
import type { Storage } from '../storage/storage.js';
import { isSizeName, negotiateFormat, pickBackground, pickSize } from './negotiate.js';
import type { ServableVariant, VariantLookup } from './variant-lookup.js';

export interface ServeRouteOptions {
  storage: Storage;
  lookup: VariantLookup;
  onServed: (status: number, format: string, seconds: number) => void;
}

interface ServeQuery {
  size?: string;
  format?: string;
  bg?: string;
}

const FORMATS = new Set(['avif', 'webp', 'jpeg', 'jpg', 'png']);
const FORMAT_ORDER: OutputFormat[] = ['avif', 'webp', 'jpeg', 'png'];

/** The validated request, or the parameter that is wrong and why. */
function parseServeRequest(
  rawId: string,
  query: ServeQuery,
):
  | { mediaId: number; size?: SizeName; format?: OutputFormat; bg: Background }
  | { parameter: string; message: string } {
  const { size, format, bg = 'original' } = query;
  if (!/^\d{1,15}$/.test(rawId) || Number(rawId) < 1)
    return { parameter: 'mediaId', message: `media id must be a positive integer (got "${rawId}")` };
  if (size !== undefined && !isSizeName(size))
    return {
      parameter: 'size',
      message: `size must be one of thumbnail, small, grid, detail, header, zoom (got "${size}")`,
    };
  if (format !== undefined && !FORMATS.has(format))
    return { parameter: 'format', message: `format must be one of avif, webp, jpeg, png (got "${format}")` };
  if (bg !== 'original' && bg !== 'removed')
    return { parameter: 'bg', message: `bg must be original or removed (got "${bg}")` };
  return {
    mediaId: Number(rawId),
    bg,
    ...(size ? { size } : {}),
    ...(format ? { format: format === 'jpg' ? 'jpeg' : (format as OutputFormat) } : {}),
  };
}

export function registerServeRoute(app: FastifyInstance, options: ServeRouteOptions): void {
  app.get<{ Params: { mediaId: string }; Querystring: ServeQuery }>(
    '/serve/:mediaId',
    async (request, reply) => {
      const started = performance.now();
      let servedFormat = 'none';
      reply.raw.once('finish', () =>
        options.onServed(reply.statusCode, servedFormat, (performance.now() - started) / 1000),
      );
      const parsed = parseServeRequest(request.params.mediaId, request.query);
      if ('parameter' in parsed) return reply.code(400).send({ error: 'bad_request', ...parsed });
      const { mediaId } = parsed;

      const lookup = await options.lookup.find(mediaId);
      if (lookup.state === 'unknown')
        return reply.code(404).send({ error: 'not_found', message: `no media item ${mediaId}` });
      if (lookup.state === 'deleted')
        return reply.code(410).send({ error: 'gone', message: `media item ${mediaId} was deleted` });
      if (lookup.state === 'not-ready')
        return reply.code(404).send({
          error: 'not_ready',
          message: `media item ${mediaId} is not processed yet (${lookup.status})`,
        });

      const variant = chooseVariant(
        lookup.variants,
        parsed.size,
        parsed.format,
        parsed.bg,
        request.headers.accept,
      );
      if ('error' in variant)
        return reply.code(variant.status).send({ error: variant.error, message: variant.message });
      servedFormat = variant.format;
      if (parsed.format === undefined) reply.header('Vary', 'Accept');
      reply.header('ETag', variant.etag).header('Cache-Control', 'public, max-age=31536000, immutable');
      if (matchesEtag(request.headers['if-none-match'], variant.etag)) return reply.code(304).send();
      return sendVariantFile(request, reply, options, { mediaId, variant });
    },
  );
}

async function sendVariantFile(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ServeRouteOptions,
  { mediaId, variant }: { mediaId: number; variant: ServableVariant },
) {
  // One open() per request: the recorded size is the Content-Length (variants are immutable).
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(options.storage.absolutePath(variant.path), 'r');
  } catch {
    options.lookup.invalidate(mediaId);
    request.log.error({ mediaId, path: variant.path }, 'variant file missing on disk');
    return reply
      .code(404)
      .send({ error: 'file_missing', message: `the file of media item ${mediaId} is missing` });
  }
  reply
    .header('Content-Type', CONTENT_TYPE[variant.format as OutputFormat])
    .header('Content-Length', variant.bytes)
    .header('Last-Modified', variant.lastModified)
    .header('X-Content-Type-Options', 'nosniff');
  if (request.method === 'HEAD') {
    await handle.close();
    // An empty reply.send() would rewrite Content-Length to 0: write the head ourselves.
    reply.hijack();
    reply.raw.writeHead(200, reply.getHeaders() as OutgoingHttpHeaders);
    reply.raw.end();
    return;
  }
  return reply.send(handle.createReadStream());
}

type Choice = ServableVariant | { error: string; status: number; message: string };

function chooseVariant(
  variants: ServableVariant[],
  size: SizeName | undefined,
  format: OutputFormat | undefined,
  bg: Background,
  accept: string | undefined,
): Choice {
  const chosenSize = pickSize(size, new Set(variants.map((v) => v.size)));
  const ofSize = variants.filter((v) => v.size === chosenSize);
  const chosenBg = pickBackground(bg, new Set(ofSize.map((v) => v.bg)));
  const candidates = ofSize.filter((v) => v.bg === chosenBg);
  const available = new Set(FORMAT_ORDER.filter((f) => candidates.some((v) => v.format === f)));
  const chosenFormat = format ?? negotiateFormat(accept, available);
  const variant = candidates.find((v) => v.format === chosenFormat);
  if (variant) return variant;
  if (format)
    return {
      error: 'format_unavailable',
      status: 404,
      message: `no ${format} variant; available: ${[...available].join(', ')}`,
    };
  return {
    error: 'not_acceptable',
    status: 406,
    message: `none of the available formats (${[...available].join(', ')}) is acceptable to this client`,
  };
}

/** If-None-Match: a list of tags (weak comparison) or *. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
