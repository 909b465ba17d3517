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

/**
 * This process cannot run the step (it has no MAIN_API_URL, say): the item is
 * given back unharmed, no attempt used, for a worker that can. Never a
 * failure, and never a "skipped" report for an upload someone is waiting on.
 */
export class NotHandledHereError extends RateLimitError {
  constructor(message: string) {
    super(message, 30_000);
  }
}

/** The main API refused our key; nothing will work until an operator fixes it. */
export class AuthError extends MediaError {
  readonly errorClass = 'AUTH';
}

/**
 * Another worker took this item over (our lease expired); our writes are
 * refused. Not an error class of the item (nothing about the upload is wrong,
 * and it is not ours to retry): it only tells the runner to stop.
 */
export class LeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/** A configuration value or CLI argument is wrong: exit code 2, one clear line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The errors of a cause chain, outermost first (bounded: causes can form a loop). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 8;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/** One of this project's errors in the cause chain (outermost first), if any. */
export function findMediaError(error: unknown): MediaError | undefined {
  return causeChain(error).find((link): link is MediaError => link instanceof MediaError);
}

/** The errno-style code of an error (ENOSPC, ECONNRESET, ER_LOCK_DEADLOCK, SQLITE_BUSY …), if it has one. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/** The first errno-style code in the cause chain (drivers and knex put it on the error or its cause). */
export function codeInChain(error: unknown): string | undefined {
  return causeChain(error)
    .map(errorCode)
    .find((code) => code !== undefined);
}

/**
 * The one place an error is classified (CONTRACT.md §5), by what it is:
 * 1. one of this project's classes anywhere in the cause chain decides
 *    (libraries such as follow-redirects wrap the errors we throw in hooks);
 * 2. anything else — an errno (ENOSPC, EMFILE, EIO, ECONNRESET …), a
 *    database code (deadlock, lost connection), or an unknown value — is
 *    TRANSIENT. None of those is the upload's fault: retrying a bug a few
 *    times costs little, failing a good upload for ever costs a user their
 *    picture and tells the main API to delete it (graphile-worker's coerceError).
 * Permanent classes are only ever thrown on purpose, by the code that saw
 * the input was wrong.
 */
export function classify(error: unknown): MediaError {
  const known = findMediaError(error);
  if (known) return known;
  const code = codeInChain(error);
  const message = error instanceof Error ? error.message : `non-error thrown: ${String(error)}`;
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return new TransientError(text, error instanceof Error ? { cause: error } : undefined);
}

/** The HTTP statuses of CONTRACT.md §5 that are not simply "try again later". */
const STATUS_CLASS: Readonly<Record<number, ErrorClass>> = {
  401: 'AUTH',
  403: 'AUTH',
  404: 'GONE',
  410: 'GONE',
  429: 'RATE_LIMIT',
};

/**
 * The class of an HTTP answer from the main API. Only the statuses the
 * contract names are special; every other unexpected status (5xx, 408, an
 * odd 400 from a proxy during a deploy) is TRANSIENT — retried, and after
 * the heal budget reported — never a reason to fail an upload at once.
 */
export function classifyStatus(status: number): ErrorClass {
  return STATUS_CLASS[status] ?? 'TRANSIENT';
}

/** INVALID_INPUT and GONE will never succeed, however often they are retried. */
export function isPermanent(errorClass: ErrorClass): boolean {
  return errorClass === 'INVALID_INPUT' || errorClass === 'GONE';
}

export type FailureDecision = 'fail' | 'retry' | 'release';

/**
 * The one fail-or-retry decision for a step that threw: permanent classes
 * fail at once; RATE_LIMIT and AUTH give the item back without using an
 * attempt (not its fault); TRANSIENT retries until the attempts are used up
 * (then the item fails, healably: the heal cycle decides what happens next).
 */
export function decideAfterFailure(
  errorClass: ErrorClass,
  attempt: number,
  maxAttempts: number,
): FailureDecision {
  if (isPermanent(errorClass)) return 'fail';
  if (errorClass === 'RATE_LIMIT' || errorClass === 'AUTH') return 'release';
  return attempt >= maxAttempts ? 'fail' : 'retry';
}
