/**
 * The storage rows of the option table: where media lives (STORAGE_URL, or
 * the older STORAGE_DIR) and how an S3-compatible server is reached.
 * config-rules.ts refuses the combinations that contradict each other.
 */
import path from 'node:path';
import { boolean, httpUrl, nonNegativeInt, text } from './config-parsers.js';
import { option, optional, type ParsedSoFar } from './config-row.js';
import { parseStorageUrl } from './storage/storage-url.js';

/** STORAGE_DIR's default: the directory of an fs: STORAGE_URL, so both always agree; else var/storage. */
function storageDirDefault(parsed: ParsedSoFar): string {
  const location = parsed.storageUrl as ReturnType<typeof parseStorageUrl> | undefined;
  return location?.kind === 'fs' ? location.root : path.join('var', 'storage');
}

export const STORAGE_OPTIONS = [
  optional({
    key: 'storageUrl',
    env: 'STORAGE_URL',
    default: undefined,
    parse: parseStorageUrl,
    doc: 'fs:<dir> or <dir> (same as STORAGE_DIR), or s3://bucket[/prefix] (an S3-compatible bucket: S3_ENDPOINT, S3_REGION, credentials from AWS_ACCESS_KEY_ID … or the SDK chain); wins over STORAGE_DIR, and with an fs: URL a STORAGE_DIR naming another directory is an error; unset: STORAGE_DIR',
  }),
  option({
    key: 'storageDir',
    env: 'STORAGE_DIR',
    default: storageDirDefault,
    parse: text,
    doc: 'directory holding bulk/ and library/ (same as STORAGE_URL=fs:<dir>; default var/storage)',
  }),
  optional({
    key: 's3Endpoint',
    env: 'S3_ENDPOINT',
    default: undefined,
    parse: httpUrl,
    doc: 'S3 API base URL for a non-AWS server (MinIO, R2, GCS, Ceph, Garage); unset: AWS S3. Only with an s3:// STORAGE_URL',
  }),
  optional({
    key: 's3Region',
    env: 'S3_REGION',
    default: undefined,
    parse: text,
    doc: 'region requests are signed for; unset: AWS_REGION, else us-east-1. Only with an s3:// STORAGE_URL',
  }),
  option({
    key: 's3ForcePathStyle',
    env: 'S3_FORCE_PATH_STYLE',
    default: (parsed) => String(parsed.s3Endpoint !== undefined),
    parse: boolean,
    doc: 'address the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint> (default: true when S3_ENDPOINT is set, as MinIO, Ceph and Garage need)',
  }),
  option({
    key: 'scratchDir',
    env: 'SCRATCH_DIR',
    default: path.join('var', 'scratch'),
    parse: text,
    doc: "local directory for a bucket's spooled uploads and downloads (originals handed to sharp), removed when done; its disk is the one DISK_ALERT_PERCENT watches on S3",
  }),
  option({
    key: 'serveCacheDir',
    env: 'SERVE_CACHE_DIR',
    default: path.join('var', 'serve-cache'),
    parse: text,
    doc: 'local read-through cache of variants /serve fetched from a bucket (kept across restarts; one per VM); unused on fs:',
  }),
  option({
    key: 'serveCacheMb',
    env: 'SERVE_CACHE_MB',
    default: '1024',
    parse: nonNegativeInt,
    doc: 'size cap of SERVE_CACHE_DIR, least recently served evicted first (0: no cache, every /serve reads the bucket)',
  }),
  optional({
    key: 'publicMediaBaseUrl',
    env: 'PUBLIC_MEDIA_BASE_URL',
    default: undefined,
    parse: httpUrl,
    doc: 'a CDN or public bucket serving the stored keys: /serve answers 302 to <url>/<key> instead of sending the bytes (see docs/storage.md for what that gives up)',
  }),
] as const;
