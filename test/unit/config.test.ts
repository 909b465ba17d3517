import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseDatabaseUrl, redact } from '../../src/db/database-url.js';
import { UsageError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('works with no configuration at all (embedded defaults)', () => {
    const config = loadConfig({});
    expect(config.database).toMatchObject({
      client: 'sqlite',
      filename: path.resolve('var/media-worker.sqlite'),
    });
    expect(config).toMatchObject({
      storageDir: 'var/storage',
      httpHost: '127.0.0.1',
      httpPort: 3001,
      maxAttempts: 3,
      leaseMs: 120000,
      logLevel: 'info',
    });
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:3001');
    expect(config.mainApiUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lets a flag win over the environment', () => {
    const config = loadConfig({ CONCURRENCY: '8', HTTP_PORT: '4000' }, { concurrency: '3' });
    expect(config.concurrency).toBe(3);
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:4000');
  });

  it('collects every problem into one error naming each variable', () => {
    expect(() =>
      loadConfig({ CONCURRENCY: '-1', LOG_LEVEL: 'LOUD', DATABASE_URL: 'redis://x' }),
    ).toThrowError(
      new UsageError(
        'invalid configuration: DATABASE_URL must start with sqlite: or mysql:// (got "redis://x"); CONCURRENCY must be a positive integer (got "-1"); LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "LOUD")',
      ),
    );
  });

  it('refuses numbers with junk, and a lease under a second', () => {
    expect(() => loadConfig({ MAX_ATTEMPTS: '3x' })).toThrow(
      /MAX_ATTEMPTS must be a positive integer \(got "3x"\)/,
    );
    expect(() => loadConfig({ LEASE_MS: '10' })).toThrow(/LEASE_MS must be an integer ≥ 1000/);
  });
});

describe('settings that are nonsense together, or silently switch something off', () => {
  it('refuses HEAL_BATCH=0, which would disable healing without saying so', () => {
    expect(() => loadConfig({ HEAL_BATCH: '0' })).toThrow(
      /HEAL_BATCH must be a positive integer \(got "0"\)/,
    );
    expect(loadConfig({ HEAL_BATCH: '1' }).healBatch).toBe(1);
  });

  it('refuses a retry base above the retry maximum, naming both', () => {
    expect(() => loadConfig({ RETRY_BASE_MS: '5000', RETRY_MAX_MS: '1000' })).toThrow(
      /RETRY_BASE_MS \(5000\) must not exceed RETRY_MAX_MS \(1000\)/,
    );
    expect(loadConfig({ RETRY_BASE_MS: '1000', RETRY_MAX_MS: '1000' }).retryMaxMs).toBe(1000);
  });

  it('refuses a download deadline shorter than one idle timeout, and bad delivery limits', () => {
    expect(() => loadConfig({ MAIN_API_TIMEOUT_MS: '90000', DOWNLOAD_DEADLINE_MS: '60000' })).toThrow(
      /MAIN_API_TIMEOUT_MS \(90000\) must not exceed DOWNLOAD_DEADLINE_MS \(60000\)/,
    );
    expect(() => loadConfig({ HEAL_MAX_COUNT: '0' })).toThrow(/HEAL_MAX_COUNT must be a positive integer/);
    expect(() => loadConfig({ PENDING_LIST_MAX_BYTES: '10' })).toThrow(
      /PENDING_LIST_MAX_BYTES must be an integer ≥ 1024/,
    );
    expect(() => loadConfig({ GONE_CONFIRM_MS: '-1' })).toThrow(/GONE_CONFIRM_MS must be an integer ≥ 0/);
    expect(loadConfig({})).toMatchObject({
      downloadDeadlineMs: 60_000,
      goneConfirmMs: 5000,
      pendingListMaxBytes: 8_388_608,
      healMaxCount: 10,
      healMaxAgeHours: 168,
    });
  });

  it('refuses a first idle poll delay above the longest one, naming both', () => {
    expect(() => loadConfig({ POLL_INTERVAL_MS: '5000', IDLE_MAX_MS: '1000' })).toThrow(
      /POLL_INTERVAL_MS \(5000\) must not exceed IDLE_MAX_MS \(1000\)/,
    );
  });

  it('reports a cross-field problem together with the others', () => {
    expect(() => loadConfig({ RETRY_BASE_MS: '9', RETRY_MAX_MS: '1', LOG_LEVEL: 'loud' })).toThrow(
      /LOG_LEVEL must be one of .*; RETRY_BASE_MS \(9\) must not exceed RETRY_MAX_MS \(1\)/,
    );
  });

  it('DATABASE_WAIT_MS: unset waits (the command decides), 0 fails at once, junk is refused', () => {
    expect(loadConfig({}).databaseWaitMs).toBeUndefined();
    expect(loadConfig({ DATABASE_WAIT_MS: '0' }).databaseWaitMs).toBe(0);
    expect(loadConfig({}, { databaseWaitMs: '15000' }).databaseWaitMs).toBe(15000);
    expect(() => loadConfig({ DATABASE_WAIT_MS: '-1' })).toThrow(/DATABASE_WAIT_MS must be an integer ≥ 0/);
  });
});

describe('parseDatabaseUrl', () => {
  it('parses MySQL URLs, with the default port and decoded credentials', () => {
    expect(parseDatabaseUrl('mysql://mw:p%40ss@db.internal/media')).toMatchObject({
      client: 'mysql',
      host: 'db.internal',
      port: 3306,
      user: 'mw',
      password: 'p@ss',
      database: 'media',
    });
  });
  it('never shows a password in the redacted form', () => {
    expect(redact('mysql://mw:secret@db:3306/media')).toBe('mysql://mw:***@db:3306/media');
    expect(parseDatabaseUrl('mysql://mw:secret@db:3306/media').url).not.toContain('secret');
  });
  it('refuses an in-memory SQLite database', () => {
    expect(() => parseDatabaseUrl('sqlite::memory:')).toThrow(/several processes must share the file/);
  });
});
