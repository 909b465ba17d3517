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
