/**
 * The one place an S3 (or network) error becomes one of the project's error
 * classes, by what it is: the HTTP status (`$metadata.httpStatusCode`) and
 * the error's name (the S3 error code), never its message.
 *
 * - NoSuchBucket, missing credentials, 401/403 (AccessDenied,
 *   InvalidAccessKeyId, SignatureDoesNotMatch …): StorageConfigError (class
 *   AUTH: the item is given back, no attempt used), naming the setting.
 * - 429: RATE_LIMIT. 5xx (SlowDown, InternalError, 503), any other status,
 *   and errors without one (ECONNREFUSED, ECONNRESET, timeouts): TRANSIENT.
 * - "No such key" is not an error of the store: the operations turn it into
 *   undefined/false themselves (isMissingKey) before anything lands here.
 */
import { MediaError, RateLimitError, TransientError, codeInChain } from '../errors.js';
import { StorageConfigError } from './object-store.js';

export interface S3ErrorContext {
  operation: string;
  key?: string;
  bucket: string;
  /** s3://bucket/prefix */
  description: string;
  endpoint: string | undefined;
}

interface S3Like {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function s3Status(error: unknown): number | undefined {
  const status = (error as S3Like | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function s3Name(error: unknown): string {
  const name = (error as S3Like | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

/** The object (not the bucket) is missing: GetObject/CopyObject say NoSuchKey, HeadObject a bare 404. */
export function isMissingKey(error: unknown): boolean {
  const name = s3Name(error);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || (s3Status(error) === 404 && name !== 'NoSuchUpload');
}

/** An S3 answer 416: the range selects nothing. */
export function isInvalidRange(error: unknown): boolean {
  return s3Name(error) === 'InvalidRange' || s3Status(error) === 416;
}

const REFUSED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
]);

export function toStorageError(error: unknown, context: S3ErrorContext): Error {
  if (error instanceof MediaError) return error;
  const name = s3Name(error);
  const status = s3Status(error);
  const cause = { cause: error };
  const server = context.endpoint ?? 'AWS S3';
  const what = `S3 ${context.operation}${context.key === undefined ? '' : ` ${context.key}`} on ${context.description}`;
  if (name === 'NoSuchBucket') {
    return new StorageConfigError(
      `STORAGE_URL names bucket "${context.bucket}", which does not exist at ${server} (NoSuchBucket): create it or fix STORAGE_URL/S3_ENDPOINT`,
      cause,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new StorageConfigError(
      `no S3 credentials for ${context.description}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile, or an instance role)`,
      cause,
    );
  }
  if (REFUSED.has(name) || status === 401 || status === 403) {
    return new StorageConfigError(
      `${server} refused ${what} (${name}${status === undefined ? '' : `, HTTP ${status}`}): check the S3 credentials (AWS_ACCESS_KEY_ID …), the bucket's policy and S3_REGION`,
      cause,
    );
  }
  if (status === 429) return new RateLimitError(`${what} was throttled (${name}, HTTP 429)`, 5_000, cause);
  if (status !== undefined) return new TransientError(`${what} failed: ${name} (HTTP ${status})`, cause);
  const code = codeInChain(error) ?? name;
  const message = error instanceof Error ? error.message : String(error);
  return new TransientError(`${what} failed (${server} unreachable?): ${code}: ${message}`, cause);
}
