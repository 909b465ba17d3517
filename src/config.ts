/**
 * Configuration: the typed Config, and `loadConfig`, which applies flag →
 * env → default over the option table (config-options.ts), reports every
 * problem at once, and freezes the result. Only the CLI hands it process.env.
 */
import type { NamedKey } from './http/api-keys.js';
import { UsageError } from './errors.js';
import type { RetentionPolicy } from './retention.js';
import type { LogLevel } from './config-parsers.js';
import { OPTIONS } from './config-options.js';
import { crossFieldProblems } from './config-rules.js';
import { providerOptionProblems } from './config-provider-options.js';
import type { Config } from './config-type.js';

export type { Config };

export type { LogLevel };

/** `DATABASE_URL` → `database-url`: flags are the env words in kebab-case. */
export function flagName(env: string): string {
  return env.toLowerCase().replaceAll('_', '-');
}

/** camelCase key of the commander option for an env var (`database-url` → `databaseUrl`). */
export function flagKey(env: string): string {
  return flagName(env).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Builds the frozen Config. `flags` holds raw strings from the command line,
 * keyed by `flagKey(env)`; they win over `env`.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}): Config {
  const values: Partial<Record<keyof Config, unknown>> = {};
  const problems: string[] = [];
  for (const spec of OPTIONS) {
    const fromFlag = flags[flagKey(spec.env)];
    const given =
      typeof fromFlag === 'string' || typeof fromFlag === 'number' ? String(fromFlag) : env[spec.env];
    const raw =
      given !== undefined && given !== ''
        ? given
        : typeof spec.default === 'function'
          ? spec.default(values as Partial<Config>)
          : spec.default;
    if (raw === undefined) continue;
    try {
      values[spec.key] = spec.parse(raw);
    } catch (error) {
      const source = given !== undefined && given !== '' ? spec.env : `default of ${spec.env}`;
      problems.push(`${source} ${(error as Error).message}`);
    }
  }
  if (values.mainApiUrl !== undefined && values.mediaApiKey === undefined) {
    problems.push('MAIN_API_URL needs MEDIA_API_KEY (the key the main API and this worker share)');
  }
  problems.push(...adminKeyProblems(values));
  const providers = values.analysisProviders as Config['analysisProviders'] | undefined;
  if (providers?.includes('remote') && values.analysisRemoteUrl === undefined) {
    problems.push('ANALYSIS_PROVIDERS includes remote, so ANALYSIS_REMOTE_URL must be set');
  }
  problems.push(...crossFieldProblems(values));
  problems.push(...providerOptionProblems(values));
  if (problems.length > 0) throw new UsageError(`invalid configuration: ${problems.join('; ')}`);
  return Object.freeze(values as Config);
}

/** Every admin key, from ADMIN_API_KEYS and ADMIN_API_KEY together. */
export function adminKeysOf(config: Pick<Config, 'adminApiKeys' | 'adminApiKey'>): NamedKey[] {
  return [...(config.adminApiKeys ?? []), ...(config.adminApiKey ?? [])];
}

/** READONLY_API_KEYS, or none. */
export function readOnlyKeysOf(config: Pick<Config, 'readOnlyApiKeys'>): NamedKey[] {
  return [...(config.readOnlyApiKeys ?? [])];
}

function adminKeyProblems(values: Partial<Record<keyof Config, unknown>>): string[] {
  const admin = adminKeysOf(values as Pick<Config, 'adminApiKeys' | 'adminApiKey'>);
  const readOnly = readOnlyKeysOf(values as Pick<Config, 'readOnlyApiKeys'>);
  const keys = [...admin, ...readOnly];
  const problems: string[] = [];
  const shared = readOnly.find((k) => admin.some((a) => a.name === k.name));
  if (shared) problems.push(`READONLY_API_KEYS names a key "${shared.name}" that an admin key is named too`);
  if (readOnly.some((k) => k.key === values.mediaApiKey))
    problems.push('a read-only key is the same as MEDIA_API_KEY');
  if (values.adminApiKeys !== undefined && admin.filter((k) => k.name === 'admin').length > 1)
    problems.push(
      'ADMIN_API_KEYS names a key "admin", which is the name ADMIN_API_KEY is given: use one of the two',
    );
  if (new Set(keys.map((k) => k.key)).size < keys.length)
    problems.push('two admin or read-only keys are the same key');
  if (admin.some((k) => k.key === values.mediaApiKey))
    problems.push('an admin key is the same as MEDIA_API_KEY: the platform would hold admin rights');
  return problems;
}

export function isMainApiConfigured(config: Pick<Config, 'mainApiUrl' | 'mediaApiKey'>): boolean {
  return config.mainApiUrl !== undefined && config.mediaApiKey !== undefined;
}

export function retentionPolicy(config: Config): RetentionPolicy {
  return {
    itemDays: config.retentionDays,
    originalsDays: config.originalsRetentionDays,
    testDataHours: config.testDataRetentionHours,
  };
}

export { OPTIONS };
