import { PROVIDER_NAMES, type ProviderName } from './analysis/analysis-provider.js';

/** Parsers for configuration values: each returns the value or throws a message naming what was expected. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Parser<T> = (raw: string) => T;

export function integer(min: number, what: string): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be ${what} (got "${raw}")`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`must be ${what} (got "${raw}")`);
    return value;
  };
}
export const positiveInt = integer(1, 'a positive integer');
export const nonNegativeInt = integer(0, 'an integer ≥ 0');
export const port: Parser<number> = (raw) => {
  const value = integer(0, 'a port number 0–65535')(raw);
  if (value > 65535) throw new Error(`must be a port number 0–65535 (got "${raw}")`);
  return value;
};
export const text: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};
const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];
export const boolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new Error(`must be true or false (got "${raw}")`);
};
export function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`must be an http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`must be an http(s) URL (got "${raw}")`);
  }
  return raw.replace(/\/+$/, '');
}
export function logLevel(raw: string): LogLevel {
  const value = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new Error(`must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
  }
  return value as LogLevel;
}

export const percent: Parser<number> = (raw) => {
  const value = integer(1, 'a percentage 1–100')(raw);
  if (value > 100) throw new Error(`must be a percentage 1–100 (got "${raw}")`);
  return value;
};

/** A number in (0, 1]. */
export const fraction: Parser<number> = (raw) => {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new Error(`must be a number above 0 and at most 1 (got "${raw}")`);
  }
  return value;
};

/** A comma-separated list of analysis providers, each named once. */
export const providerList: Parser<readonly ProviderName[]> = (raw) => {
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(PROVIDER_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`must list providers among ${PROVIDER_NAMES.join(', ')} (got "${raw}")`);
  }
  if (new Set(names).size !== names.length) throw new Error(`names a provider twice (got "${raw}")`);
  return names as ProviderName[];
};
