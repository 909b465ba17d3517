/**
 * Settings that are each valid alone but nonsense together. loadConfig adds
 * these problems to the ones the option table found, so every mistake is
 * reported at once.
 */
import path from 'node:path';
import type { Config } from './config-type.js';
import { describeLocation, type StorageLocation } from './storage/storage-url.js';

type Values = Partial<Record<keyof Config, unknown>>;

interface Rule {
  /** Both settings must be present (parsed) for the rule to apply. */
  low: keyof Config;
  high: keyof Config;
  message: (low: number, high: number) => string;
}

const RULES: readonly Rule[] = [
  {
    low: 'retryBaseMs',
    high: 'retryMaxMs',
    message: (base, max) =>
      `RETRY_BASE_MS (${base}) must not exceed RETRY_MAX_MS (${max}): every retry would wait RETRY_MAX_MS`,
  },
  {
    low: 'mainApiTimeoutMs',
    high: 'downloadDeadlineMs',
    message: (idle, total) =>
      `MAIN_API_TIMEOUT_MS (${idle}) must not exceed DOWNLOAD_DEADLINE_MS (${total}): the whole download must be allowed at least one idle timeout`,
  },
  {
    low: 'pollIntervalMs',
    high: 'idleMaxMs',
    message: (poll, idle) =>
      `POLL_INTERVAL_MS (${poll}) must not exceed IDLE_MAX_MS (${idle}): idle polling would never back off`,
  },
];

export function crossFieldProblems(values: Values): string[] {
  const problems: string[] = [];
  for (const rule of RULES) {
    const low = values[rule.low];
    const high = values[rule.high];
    if (typeof low === 'number' && typeof high === 'number' && low > high)
      problems.push(rule.message(low, high));
  }
  return [...problems, ...storageProblems(values)];
}

/**
 * STORAGE_URL wins over STORAGE_DIR, whose default follows an fs: URL; so
 * the two disagree only when both were set to different directories. The
 * S3 settings without an s3:// STORAGE_URL would be silently ignored.
 */
function storageProblems(values: Values): string[] {
  const problems: string[] = [];
  const location = values.storageUrl as StorageLocation | undefined;
  const directory = values.storageDir;
  if (location?.kind === 'fs' && typeof directory === 'string' && path.resolve(directory) !== location.root) {
    problems.push(
      `STORAGE_URL (${describeLocation(location)}) and STORAGE_DIR (${directory}) name different directories: set only STORAGE_URL`,
    );
  }
  problems.push(...localDirectoryProblems(values));
  if (location?.kind !== 's3') {
    for (const [key, env] of [
      ['s3Endpoint', 'S3_ENDPOINT'],
      ['s3Region', 'S3_REGION'],
    ] as const) {
      if (values[key] !== undefined) {
        problems.push(
          `${env} is set but STORAGE_URL is not an s3:// URL: set STORAGE_URL=s3://bucket/prefix`,
        );
      }
    }
  }
  return problems;
}

/**
 * The serve cache sweeps stale temp entries of its directory at start, and
 * scratch directories are temp entries: one inside the other would let a
 * restart delete a claim's original. A redirect base with a query or a
 * fragment would be cut in the middle by the key appended to it.
 */
function localDirectoryProblems(values: Values): string[] {
  const problems: string[] = [];
  const { scratchDir, serveCacheDir, publicMediaBaseUrl } = values;
  if (typeof scratchDir === 'string' && typeof serveCacheDir === 'string') {
    const [scratch, cache] = [path.resolve(scratchDir), path.resolve(serveCacheDir)];
    if (scratch === cache || scratch.startsWith(cache + path.sep) || cache.startsWith(scratch + path.sep)) {
      problems.push(
        `SCRATCH_DIR (${scratchDir}) and SERVE_CACHE_DIR (${serveCacheDir}) must be separate directories, neither inside the other`,
      );
    }
  }
  if (typeof publicMediaBaseUrl === 'string' && /[?#]/.test(publicMediaBaseUrl)) {
    problems.push(
      `PUBLIC_MEDIA_BASE_URL (${publicMediaBaseUrl}) must not have a query or a fragment: the object's key is appended to it`,
    );
  }
  return problems;
}
