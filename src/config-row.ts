/**
 * The shape of one row of the option table (config-options.ts and the
 * tables it gathers, such as config-storage-options.ts).
 */
import type { Parser } from './config-parsers.js';

/** The values parsed so far, in table order: what a computed default may look at. */
export type ParsedSoFar = Readonly<Record<string, unknown>>;

export interface Option<K extends string, T> {
  key: K;
  env: string;
  doc: string;
  /** Undefined: the setting may be absent (its value is then undefined). */
  default: string | ((parsed: ParsedSoFar) => string) | undefined;
  parse: Parser<T>;
}

/** A setting that always has a value (its default, when not given). */
export function option<const K extends string, T>(
  spec: Option<K, T> & { default: NonNullable<Option<K, T>['default']> },
) {
  return spec as Option<K, T> & { readonly required: true };
}

/** A setting that may be absent. */
export function optional<const K extends string, T>(spec: Option<K, T> & { default: undefined }) {
  return spec as Option<K, T> & { readonly required: false };
}
