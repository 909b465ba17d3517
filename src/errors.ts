/**
 * The small set of error classes. A class exists only where it changes what
 * the worker does next (CONTRACT.md §5); the class, never the message text,
 * decides whether a step is retried.
 */
export type ErrorClass = 'INVALID_INPUT' | 'GONE' | 'TRANSIENT' | 'RATE_LIMIT' | 'AUTH';

export abstract class MediaError extends Error {
  abstract readonly errorClass: ErrorClass;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input can never be processed: not an image, too large, a bad path, an unknown role. */
export class InvalidInputError extends MediaError {
  readonly errorClass = 'INVALID_INPUT';
}

/** The upload disappeared at its source (404/410, a deleted local file). */
export class GoneError extends MediaError {
  readonly errorClass = 'GONE';
}

/** Worth retrying later: network trouble, 5xx, a full disk, a database deadlock. */
export class TransientError extends MediaError {
  readonly errorClass = 'TRANSIENT';
}

/** The main API asked us to slow down; retry after `retryAfterMs` without burning an attempt. */
export class RateLimitError extends MediaError {
  readonly errorClass = 'RATE_LIMIT';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The main API refused our key; nothing will work until an operator fixes it. */
export class AuthError extends MediaError {
  readonly errorClass = 'AUTH';
}

/** Another worker took this item over (our lease expired); our writes are refused. */
export class LeaseLostError extends TransientError {}

/** A configuration value or CLI argument is wrong: exit code 2, one clear line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const TRANSIENT_ERRNO = new Set([
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EBUSY',
]);

/**
 * Turns anything thrown into a MediaError. Unknown values are transient
 * (graphile-worker's coerceError): retrying a bug a few times costs little,
 * failing a good upload for ever costs a user their picture.
 */
export function toMediaError(error: unknown): MediaError {
  if (error instanceof MediaError) return error;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const prefix = code && TRANSIENT_ERRNO.has(code) ? `${code}: ` : '';
    return new TransientError(`${prefix}${error.message}`.replace(/^(\w+): \1: /, '$1: '), { cause: error });
  }
  return new TransientError(`non-error thrown: ${String(error)}`);
}

/** INVALID_INPUT and GONE will never succeed, however often they are retried. */
export function isPermanent(errorClass: ErrorClass): boolean {
  return errorClass === 'INVALID_INPUT' || errorClass === 'GONE';
}
