/**
 * STORAGE_URL: where media lives. `s3://bucket/prefix` is an S3-compatible
 * bucket (endpoint, region and path style from S3_ENDPOINT, S3_REGION,
 * S3_FORCE_PATH_STYLE); `fs:<path>` or a plain path is a directory.
 */
import path from 'node:path';

export type StorageLocation =
  | { readonly kind: 'fs'; readonly root: string }
  /** `prefix` is '' or ends with '/': it is put in front of every key. */
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

const EXPECTED = 'must be s3://bucket[/prefix], fs:<directory> or a directory path';

/** AWS's rule for bucket names, which every S3-compatible server accepts. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseStorageUrl(raw: string): StorageLocation {
  const value = raw.trim();
  if (value === '') throw new Error(`${EXPECTED} (got "")`);
  if (/^s3:/i.test(value)) return parseS3(value);
  if (value.startsWith('fs:')) return fsLocation(value.slice('fs:'.length), raw);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error(`${EXPECTED} (got "${raw}")`);
  return fsLocation(value, raw);
}

function fsLocation(directory: string, raw: string): StorageLocation {
  // fs:///srv/media is accepted as well as fs:/srv/media.
  const cleaned = directory.replace(/^\/\/(?=\/)/, '');
  if (cleaned.trim() === '') throw new Error(`${EXPECTED}: fs: needs a directory (got "${raw}")`);
  if (cleaned.includes('\0')) throw new Error(`${EXPECTED}: the directory contains NUL (got "${raw}")`);
  return { kind: 'fs', root: path.resolve(cleaned) };
}

function parseS3(value: string): StorageLocation {
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(value);
  if (!match || !value.startsWith('s3://')) {
    throw new Error(`must be s3://bucket[/prefix] without query or fragment (got "${value}")`);
  }
  const bucket = match[1] ?? '';
  if (bucket.includes('@') || bucket.includes(':')) {
    throw new Error(
      'must not hold credentials or a port: credentials come from the AWS chain (AWS_ACCESS_KEY_ID …), the server from S3_ENDPOINT',
    );
  }
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new Error(
      `names bucket "${bucket}": a bucket name is 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit`,
    );
  }
  const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..' || segment.includes('\\'))) {
    throw new Error(`has a prefix with '.', '..' or a backslash (got "${value}")`);
  }
  return { kind: 's3', bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/** The URL a location is written as (logs, stats, error messages). */
export function describeLocation(location: StorageLocation): string {
  return location.kind === 'fs' ? location.root : `s3://${location.bucket}/${location.prefix}`;
}
