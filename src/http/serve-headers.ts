/**
 * A variant's response headers, built once per looked-up variant (the
 * lookup entry lives a second; its variant objects key a WeakMap) rather
 * than formatted on every hit.
 */
import { CONTENT_TYPE, VARIANT_CACHE_CONTROL, type OutputFormat } from '../images/presets.js';
import type { ServableVariant } from './variant-lookup.js';

type Headers = Record<string, string | number>;

const built = new WeakMap<ServableVariant, { full: Headers; validators: Headers }>();

function headersOf(variant: ServableVariant) {
  let headers = built.get(variant);
  if (!headers) {
    const validators = { etag: variant.etag, 'cache-control': VARIANT_CACHE_CONTROL };
    headers = {
      validators,
      full: {
        ...validators,
        'content-type': CONTENT_TYPE[variant.format as OutputFormat],
        'content-length': variant.bytes,
        'last-modified': variant.lastModified,
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
      },
    };
    built.set(variant, headers);
  }
  return headers;
}

/** Every header of a 200 (a 206 then overrides the length). */
export function variantHeaders(variant: ServableVariant): Headers {
  return headersOf(variant).full;
}

/** What a 304 repeats: the validator and the caching rule. */
export function validatorHeaders(variant: ServableVariant): Headers {
  return headersOf(variant).validators;
}
