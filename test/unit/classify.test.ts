/** The one classification of errors (errors.ts) and the decisions that follow from it. */
import { describe, expect, it } from 'vitest';
import { AxiosError } from 'axios';
import {
  AuthError,
  GoneError,
  InvalidInputError,
  TransientError,
  classify,
  classifyStatus,
  decideAfterFailure,
} from '../../src/errors.js';
import { probeImage } from '../../src/images/probe-image.js';
import { MainApiAuthState } from '../../src/intake/main-api-auth.js';
import { retryAfterMs } from '../../src/intake/main-api-rate-limit.js';
import { MainApiRateLimit } from '../../src/intake/main-api-rate-limit.js';
import { silentLogger } from '../../src/log.js';

const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });

describe('classify', () => {
  it('keeps a project error found anywhere in the cause chain', () => {
    const ours = new InvalidInputError('redirected to another origin');
    const wrapped = new AxiosError('Redirected request failed', 'ERR_FR_REDIRECTION_FAILURE');
    wrapped.cause = Object.assign(new Error('Redirected request failed'), { cause: ours });
    expect(classify(wrapped)).toBe(ours);
    expect(classify(new GoneError('x')).errorClass).toBe('GONE');
  });
  it('never makes an errno, a database code or an unknown value permanent', () => {
    for (const code of [
      'EMFILE',
      'ENFILE',
      'EIO',
      'ENOSPC',
      'ENOENT',
      'EACCES',
      'ER_LOCK_DEADLOCK',
      'SQLITE_BUSY',
    ]) {
      const classified = classify(errno(code));
      expect(classified).toBeInstanceOf(TransientError);
      expect(classified.message).toContain(code);
    }
    expect(classify('a string').errorClass).toBe('TRANSIENT');
    expect(classify(new Error('boom')).errorClass).toBe('TRANSIENT');
  });
  it('maps main API statuses by the contract table only', () => {
    expect([401, 403, 404, 410, 429].map(classifyStatus)).toEqual([
      'AUTH',
      'AUTH',
      'GONE',
      'GONE',
      'RATE_LIMIT',
    ]);
    expect([400, 405, 408, 409, 422, 500, 502, 503].map(classifyStatus)).toEqual(Array(8).fill('TRANSIENT'));
  });
  it('decides fail, retry or release in one place', () => {
    expect(decideAfterFailure('INVALID_INPUT', 1, 3)).toBe('fail');
    expect(decideAfterFailure('GONE', 1, 3)).toBe('fail');
    expect(decideAfterFailure('TRANSIENT', 2, 3)).toBe('retry');
    expect(decideAfterFailure('TRANSIENT', 3, 3)).toBe('fail');
    expect(decideAfterFailure('RATE_LIMIT', 9, 3)).toBe('release');
    expect(decideAfterFailure('AUTH', 9, 3)).toBe('release');
  });
  it('a file the probe cannot read keeps its errno: transient, not "not an image"', async () => {
    const error = await probeImage('/nonexistent/upload.jpg', 1e8).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(classify(error).errorClass).toBe('TRANSIENT');
  });
});

describe('Retry-After and the rate-limit gate', () => {
  it('reads seconds and dates; missing, negative or unreadable values mean 30 s', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs('0')).toBe(1000);
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(retryAfterMs(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    for (const bad of ['-5', 'soon', '', '1.5e3', undefined, '-1'])
      expect(retryAfterMs(bad), String(bad)).toBe(30_000);
    expect(retryAfterMs('999999')).toBe(600_000);
  });
  it('doubles the wait on consecutive 429s and resets after an answer', () => {
    const gate = new MainApiRateLimit();
    expect(gate.limited(1000, 0)).toBe(1000);
    expect(gate.limited(1000, 1000)).toBe(2000);
    expect(gate.limited(1000, 3000)).toBe(4000);
    expect(() => gate.assertOpen('x', 3500)).toThrow(/wait before x/);
    gate.answered();
    expect(gate.limited(1000, 10_000)).toBe(1000);
  });
});

describe('auth pause', () => {
  it('is lifted only by an answer to a request sent after the refusal', () => {
    const auth = new MainApiAuthState(silentLogger(), 60_000);
    const refusal = auth.refused(401, 'the pending list', 1000);
    expect(refusal).toBeInstanceOf(AuthError);
    auth.accepted(999); // in flight before the 401: says nothing about the key now
    auth.accepted(1000);
    expect(auth.currentProblem()).toMatch(/answered 401/);
    expect(() => auth.assertNotPaused(2000)).toThrow(/paused/);
    auth.accepted(61_001); // the probe let through after the pause
    expect(auth.currentProblem()).toBeUndefined();
  });
});
