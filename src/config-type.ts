/** The validated, frozen settings type (the option table in config-options.ts fills it). */
import type { ProviderName } from './analysis/provider.js';
import type { LogLevel } from './config-parsers.js';
import type { DatabaseTarget } from './db/database-url.js';
import type { DataType } from './media-roles.js';

/** The validated, frozen settings every part of the daemon is handed a slice of. */
export interface Config {
  readonly database: DatabaseTarget;
  /** Start-up's wait for an unreachable database; undefined: the command's own default. */
  readonly databaseWaitMs: number | undefined;
  readonly storageDir: string;
  readonly mainApiUrl: string | undefined;
  readonly mediaApiKey: string | undefined;
  readonly mainApiTimeoutMs: number;
  readonly downloadDeadlineMs: number;
  readonly goneConfirmMs: number;
  readonly pendingListMaxBytes: number;
  readonly publicBaseUrl: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly workerId: string;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly idleMaxMs: number;
  readonly leaseMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly healIntervalMs: number;
  readonly healBatch: number;
  readonly healMaxCount: number;
  readonly healMaxAgeHours: number;
  readonly maxUploadBytes: number;
  readonly maxInputPixels: number;
  readonly imageMemoryMb: number;
  readonly shutdownGraceMs: number;
  readonly diskAlertPercent: number;
  readonly retentionDays: Partial<Record<DataType, number>>;
  readonly originalsRetentionDays: number;
  readonly testDataRetentionHours: number;
  readonly analysisProviders: readonly ProviderName[];
  readonly moderationThreshold: number;
  readonly analysisRemoteUrl: string | undefined;
  readonly analysisRemoteKey: string | undefined;
  readonly analysisRemoteTimeoutMs: number;
  readonly logLevel: LogLevel;
}
