/**
 * A variant's response headers, built once per looked-up variant (the
 * lookup entry lives a second; its variant objects key a WeakMap) rather
 * than formatted on every hit.
 */
import { CONTENT_TYPE, VARIANT_CACHE_CONTROL, type OutputFormat } from '../images/presets.js';
import type { ServableVariant } from './variant-lookup.js';

type Headers = Record<string, string | number>;

interface BuiltHeaders {
  full: Headers;
  validators: Headers;
  /** The same two with `Vary: Accept`, for an answer Accept chose. */
  fullVary: Headers;
  validatorsVary: Headers;
}

const built = new WeakMap<ServableVariant, BuiltHeaders>();

function headersOf(variant: ServableVariant) {
  let headers = built.get(variant);
  if (!headers) {
    const validators = { etag: variant.etag, 'cache-control': VARIANT_CACHE_CONTROL };
    const full = {
      ...validators,
      'content-type': CONTENT_TYPE[variant.format as OutputFormat],
      'content-length': variant.bytes,
      'last-modified': variant.lastModified,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    headers = {
      validators,
      full,
      fullVary: { ...full, vary: 'Accept' },
      validatorsVary: { ...validators, vary: 'Accept' },
    };
    built.set(variant, headers);
  }
  return headers;
}

/**
 * The headers of an answer with the variant, /serve's route and hot path
 * alike: every header of a 200 (a 206 then overrides the length), or what a
 * 304 repeats (the validator and the caching rule); with `Vary: Accept`
 * when Accept chose the format.
 */
export function answerHeaders(variant: ServableVariant, notModified: boolean, negotiated: boolean): Headers {
  const headers = headersOf(variant);
  if (notModified) return negotiated ? headers.validatorsVary : headers.validators;
  return negotiated ? headers.fullVary : headers.full;
}
