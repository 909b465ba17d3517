/**
 * The option table: every setting's environment variable, default, parser
 * and documentation. CLI flags are the same words in kebab-case.
 */
import os from 'node:os';
import { PROVIDER_NAMES } from './analysis/analysis-provider.js';
import { modelsInstalled } from './analysis/models/model-packages.js';
import {
  LOG_LEVELS,
  fraction,
  providerList,
  httpUrl,
  integer,
  logLevel,
  nonNegativeInt,
  percent,
  port,
  positiveInt,
  text,
} from './config-parsers.js';
import { option, optional, type ParsedSoFar } from './config-row.js';
import { DASHBOARD_OPTIONS } from './config-dashboard-options.js';
import { STORAGE_OPTIONS } from './config-storage-options.js';
import { SERVE_OPTIONS } from './config-serve-options.js';
import { PROVIDER_OPTIONS } from './config-provider-options.js';
import { parseDatabaseUrl } from './db/database-url.js';
import { parseAdminKey, parseAdminKeys } from './http/api-keys.js';
import { parseRetentionDays } from './retention.js';

export type { Option, ParsedSoFar } from './config-row.js';

/** PUBLIC_BASE_URL's default: this server's own address. */
function ownBaseUrl(parsed: ParsedSoFar): string {
  const host = typeof parsed.httpHost === 'string' ? parsed.httpHost : '127.0.0.1';
  const port = typeof parsed.httpPort === 'number' ? parsed.httpPort : 3001;
  return `http://${host}:${port}`;
}

export const OPTIONS = [
  option({
    key: 'database',
    env: 'DATABASE_URL',
    default: 'sqlite:var/media-worker.sqlite',
    parse: parseDatabaseUrl,
    doc: 'sqlite:<file> or mysql://user:pass@host:3306/db',
  }),
  optional({
    key: 'databaseWaitMs',
    env: 'DATABASE_WAIT_MS',
    default: undefined,
    parse: nonNegativeInt,
    doc: 'how long start-up waits for an unreachable database (0: fail at once); unset: for ever for run and migrate, 0 for the other commands',
  }),
  ...STORAGE_OPTIONS,
  ...SERVE_OPTIONS,
  optional({
    key: 'mainApiUrl',
    env: 'MAIN_API_URL',
    default: undefined,
    parse: httpUrl,
    doc: 'main API base URL (with MEDIA_API_KEY: intake and callbacks on)',
  }),
  optional({
    key: 'mediaApiKey',
    env: 'MEDIA_API_KEY',
    default: undefined,
    parse: text,
    doc: 'Bearer key shared with the main API; alone (without MAIN_API_URL): the key of an installation that takes uploads over HTTP only',
  }),
  optional({
    key: 'adminApiKeys',
    env: 'ADMIN_API_KEYS',
    default: undefined,
    parse: parseAdminKeys,
    doc: 'named admin keys for /api/admin (name:key,name:key; keys ≥ 16 characters); the audit records the name',
  }),
  optional({
    key: 'adminApiKey',
    env: 'ADMIN_API_KEY',
    default: undefined,
    parse: parseAdminKey,
    doc: 'one admin key, named "admin" in the audit (or use ADMIN_API_KEYS)',
  }),
  ...DASHBOARD_OPTIONS,
  option({
    key: 'apiRateLimit',
    env: 'API_RATE_LIMIT',
    default: '600',
    parse: positiveInt,
    doc: 'requests per minute per API key (per address for callers without a key) before 429',
  }),
  option({
    key: 'apiUploadConcurrency',
    env: 'API_UPLOAD_CONCURRENCY',
    default: '4',
    parse: positiveInt,
    doc: 'uploads (POST /api/media) one key may stream at once before 429',
  }),
  option({
    key: 'mainApiTimeoutMs',
    env: 'MAIN_API_TIMEOUT_MS',
    default: '20000',
    parse: positiveInt,
    doc: 'main API calls fail (transiently) after this long without data',
  }),
  option({
    key: 'downloadDeadlineMs',
    env: 'DOWNLOAD_DEADLINE_MS',
    default: '60000',
    parse: integer(1000, 'an integer ≥ 1000'),
    doc: 'a file download from the main API, headers to last byte, must finish within this (else retried)',
  }),
  option({
    key: 'goneConfirmMs',
    env: 'GONE_CONFIRM_MS',
    default: '5000',
    parse: nonNegativeInt,
    doc: 'a 404/410 for a file is asked again after this long before the upload is failed as GONE',
  }),
  option({
    key: 'pendingListMaxBytes',
    env: 'PENDING_LIST_MAX_BYTES',
    default: '8388608',
    parse: integer(1024, 'an integer ≥ 1024'),
    doc: 'largest pending-list answer read from the main API (8 MiB holds ~30,000 uploads)',
  }),
  option({
    key: 'httpHost',
    env: 'HTTP_HOST',
    default: '127.0.0.1',
    parse: text,
    doc: 'address the HTTP server listens on',
  }),
  option({
    key: 'httpPort',
    env: 'HTTP_PORT',
    default: '3001',
    parse: port,
    doc: 'port the HTTP server listens on',
  }),
  option({
    key: 'publicBaseUrl',
    env: 'PUBLIC_BASE_URL',
    default: ownBaseUrl,
    parse: httpUrl,
    doc: 'base of permanent_url',
  }),
  option({
    key: 'workerId',
    env: 'WORKER_ID',
    default: () => `${os.hostname()}-${process.pid}`,
    parse: text,
    doc: 'name of this process in stats and on claimed rows',
  }),
  option({
    key: 'concurrency',
    env: 'CONCURRENCY',
    default: () => String(os.availableParallelism()),
    parse: positiveInt,
    doc: 'items processed at once by this process',
  }),
  option({
    key: 'pollIntervalMs',
    env: 'POLL_INTERVAL_MS',
    default: '2000',
    parse: positiveInt,
    doc: 'first idle poll delay',
  }),
  option({
    key: 'idleMaxMs',
    env: 'IDLE_MAX_MS',
    default: '600000',
    parse: positiveInt,
    doc: 'longest idle poll delay',
  }),
  option({
    key: 'leaseMs',
    env: 'LEASE_MS',
    default: '120000',
    parse: integer(1000, 'an integer ≥ 1000'),
    doc: 'claim lease; expired claims are taken over',
  }),
  option({
    key: 'maxAttempts',
    env: 'MAX_ATTEMPTS',
    default: '3',
    parse: positiveInt,
    doc: 'attempts per step before it is failed',
  }),
  option({
    key: 'retryBaseMs',
    env: 'RETRY_BASE_MS',
    default: '1000',
    parse: positiveInt,
    doc: 'first retry delay (doubles each attempt, jittered)',
  }),
  option({
    key: 'retryMaxMs',
    env: 'RETRY_MAX_MS',
    default: '900000',
    parse: positiveInt,
    doc: 'longest retry delay',
  }),
  option({
    key: 'healIntervalMs',
    env: 'HEAL_INTERVAL_MS',
    default: '900000',
    parse: positiveInt,
    doc: 'how often failed items are considered for healing',
  }),
  option({
    key: 'healBatch',
    env: 'HEAL_BATCH',
    default: '10',
    parse: positiveInt,
    doc: 'most failed items re-queued per heal cycle',
  }),
  option({
    key: 'healMaxCount',
    env: 'HEAL_MAX_COUNT',
    default: '10',
    parse: positiveInt,
    doc: 'heals an item gets before it is failed for good and reported (retries exhausted)',
  }),
  option({
    key: 'healMaxAgeHours',
    env: 'HEAL_MAX_AGE_HOURS',
    default: '168',
    parse: positiveInt,
    doc: 'age of an upload after which a transient failure is no longer healed, but failed for good and reported',
  }),
  option({
    key: 'maxUploadBytes',
    env: 'MAX_UPLOAD_BYTES',
    default: '5242880',
    parse: positiveInt,
    doc: 'largest accepted upload',
  }),
  option({
    key: 'maxInputPixels',
    env: 'MAX_INPUT_PIXELS',
    default: '100000000',
    parse: positiveInt,
    doc: 'largest accepted width × height',
  }),
  option({
    key: 'imageMemoryMb',
    env: 'IMAGE_MEMORY_MB',
    default: '128',
    parse: positiveInt,
    doc: 'memory budget for image decodes and encodes running at once; large ones take turns',
  }),
  option({
    key: 'shutdownGraceMs',
    env: 'SHUTDOWN_GRACE_MS',
    default: '30000',
    parse: positiveInt,
    doc: 'time in-flight items get to finish on SIGTERM',
  }),
  option({
    key: 'diskAlertPercent',
    env: 'DISK_ALERT_PERCENT',
    default: '80',
    parse: percent,
    doc: 'storage disk use (%) at which /readyz fails',
  }),
  option({
    key: 'retentionDays',
    env: 'RETENTION_DAYS',
    default: '',
    parse: parseRetentionDays,
    doc: 'days items live, by data type (e.g. event:730,product:365); unlisted types are kept',
  }),
  option({
    key: 'originalsRetentionDays',
    env: 'ORIGINALS_RETENTION_DAYS',
    default: '30',
    parse: nonNegativeInt,
    doc: 'days originals stay in bulk/ after completion (0: kept)',
  }),
  option({
    key: 'testDataRetentionHours',
    env: 'TEST_DATA_RETENTION_HOURS',
    default: '24',
    parse: positiveInt,
    doc: 'hours test data lives',
  }),
  option({
    key: 'analysisProviders',
    env: 'ANALYSIS_PROVIDERS',
    default: () => (modelsInstalled() ? 'local,models' : 'local'),
    parse: providerList,
    doc: `analysis providers, in merge order: ${PROVIDER_NAMES.join(', ')} (default local,models when the model packages are installed)`,
  }),
  option({
    key: 'moderationThreshold',
    env: 'MODERATION_THRESHOLD',
    default: '0.7',
    parse: fraction,
    doc: 'porn + hentai probability at which an image is flagged (0–1)',
  }),
  optional({
    key: 'analysisRemoteUrl',
    env: 'ANALYSIS_REMOTE_URL',
    default: undefined,
    parse: httpUrl,
    doc: 'the remote vision service the "remote" provider posts images to',
  }),
  optional({
    key: 'analysisRemoteKey',
    env: 'ANALYSIS_REMOTE_KEY',
    default: undefined,
    parse: text,
    doc: 'Bearer key for ANALYSIS_REMOTE_URL',
  }),
  option({
    key: 'analysisRemoteTimeoutMs',
    env: 'ANALYSIS_REMOTE_TIMEOUT_MS',
    default: '15000',
    parse: positiveInt,
    doc: 'timeout of one remote analysis call',
  }),
  ...PROVIDER_OPTIONS,
  option({ key: 'logLevel', env: 'LOG_LEVEL', default: 'info', parse: logLevel, doc: LOG_LEVELS.join('|') }),
] as const;
