/** S3 failures → the project's error classes, by status and S3 error name (no server needed). */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/errors.js';
import { StorageConfigError } from '../../src/storage/object-store.js';
import { isMissingKey, toStorageError } from '../../src/storage/s3-errors.js';

const CONTEXT = {
  operation: 'PutObject',
  key: 'bulk/1.jpg',
  bucket: 'media',
  description: 's3://media/prod/',
  endpoint: 'https://s3.example.test',
};

function s3Error(name: string, status: number | undefined): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status !== undefined && status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: 'whatever the server said',
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
}

describe('toStorageError', () => {
  it.each([
    ['NoSuchBucket', 404, 'AUTH', /STORAGE_URL names bucket "media".*NoSuchBucket/],
    [
      'AccessDenied',
      403,
      'AUTH',
      /refused S3 PutObject bulk\/1.jpg on s3:\/\/media\/prod\/ \(AccessDenied, HTTP 403\)/,
    ],
    ['InvalidAccessKeyId', 403, 'AUTH', /AWS_ACCESS_KEY_ID/],
    ['SignatureDoesNotMatch', 403, 'AUTH', /credentials/],
    ['Forbidden', 403, 'AUTH', /HTTP 403/],
    ['Unauthorized', 401, 'AUTH', /HTTP 401/],
    ['SlowDown', 503, 'TRANSIENT', /SlowDown \(HTTP 503\)/],
    ['InternalError', 500, 'TRANSIENT', /HTTP 500/],
    ['ServiceUnavailable', 503, 'TRANSIENT', /HTTP 503/],
    ['RequestTimeout', 400, 'TRANSIENT', /RequestTimeout \(HTTP 400\)/],
    ['TooManyRequests', 429, 'RATE_LIMIT', /throttled/],
  ])('%s (HTTP %s) is %s', (name, status, errorClass, message) => {
    const error = toStorageError(s3Error(name, status), CONTEXT);
    expect(classify(error).errorClass).toBe(errorClass);
    expect(error.message).toMatch(message);
    if (errorClass === 'AUTH') expect(error).toBeInstanceOf(StorageConfigError);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'])(
    'a network error (%s) is TRANSIENT',
    (code) => {
      const error = toStorageError(networkError(code), CONTEXT);
      expect(classify(error).errorClass).toBe('TRANSIENT');
      expect(error.message).toContain(code);
    },
  );

  it('an SDK timeout (TimeoutError, no status) is TRANSIENT', () => {
    const timeout = Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' });
    expect(classify(toStorageError(timeout, CONTEXT)).errorClass).toBe('TRANSIENT');
  });

  it('missing credentials are a StorageConfigError saying what to set', () => {
    const missing = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const error = toStorageError(missing, CONTEXT);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error.message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('tells a missing key from a missing bucket', () => {
    expect(isMissingKey(s3Error('NoSuchKey', 404))).toBe(true);
    expect(isMissingKey(s3Error('NotFound', 404))).toBe(true);
    expect(isMissingKey(s3Error('NoSuchBucket', 404))).toBe(false);
    expect(isMissingKey(s3Error('AccessDenied', 403))).toBe(false);
  });
});
