/**
 * /serve's side of on-demand variants: the chosen variant is not stored
 * yet, so it is rendered (or waited for, serve/render-on-demand.ts) and then
 * answered like any stored one. When it cannot be made (the original is
 * gone) the request is answered as a missing size always is: the largest
 * stored fallback.
 */
import type { Logger } from '../log.js';
import type { OutputFormat, SizeName } from '../images/presets.js';
import { chooseVariant, type Choice, type ServeRequest } from './serve-request.js';
import type { ItemLookup, ServableVariant, VariantLookup } from './variant-lookup.js';

export type OnDemandChoice = Choice | { error: 'unavailable'; status: 503; message: string };

export async function resolveOnDemand(
  lookup: VariantLookup,
  found: Extract<ItemLookup, { state: 'ready' }>,
  chosen: ServableVariant,
  request: { parsed: ServeRequest; accept: string | undefined; log: Logger },
): Promise<OnDemandChoice> {
  const setup = lookup.onDemand;
  const stored = () =>
    chooseVariant(
      found.variants.filter((v) => !v.onDemand),
      request.parsed,
      request.accept,
    );
  if (!setup) return stored();
  const { mediaId } = request.parsed;
  let result;
  try {
    result = await setup.renderer.variantOf(
      found.item,
      chosen.size as SizeName,
      chosen.format as OutputFormat,
    );
  } catch (error) {
    request.log.error(
      { err: error, mediaId, size: chosen.size, format: chosen.format },
      'on-demand render failed',
    );
    return {
      error: 'unavailable',
      status: 503,
      message: `the ${chosen.size} variant of media item ${mediaId} could not be made right now; try again shortly`,
    };
  }
  if (result.state === 'busy')
    return {
      error: 'unavailable',
      status: 503,
      message: `too many variants are being made at once (ON_DEMAND_CONCURRENCY); try again shortly`,
    };
  // Stored now, or known not to be makeable: either way the cached lookup is out of date.
  lookup.invalidate(mediaId);
  if (result.state === 'unavailable') {
    request.log.info({ mediaId, size: chosen.size, reason: result.reason }, 'on-demand size falls back');
    return stored();
  }
  const { size, format, bg, path, etag, bytes, createdAt } = result.variant;
  return { size, format, bg, path, etag, bytes, lastModified: new Date(createdAt).toUTCString() };
}
