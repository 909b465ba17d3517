/**
 * vitest setupFiles entry: every test fails when it leaves a server, socket, child process, ref'd
 * timer or knex pool running (test/helpers/leak-check.ts). Per test against a snapshot taken before
 * its beforeEach hooks, checked after its afterEach hooks, beforeEach cleanups and onTestFinished
 * callbacks (so what a beforeAll shares is baseline); per file against the file's start, after its
 * afterAll hooks and beforeAll cleanups.
 */
import knex from 'knex';
import { beforeAll, beforeEach } from 'vitest';
import { describeLeaks, settledLeaks, snapshot, trackKnexPools } from './leak-check.js';

trackKnexPools(knex.Client);
// stdout and stderr get their handle on first use: make that happen before any snapshot.
void process.stdout.writable;
void process.stderr.writable;

beforeAll(() => {
  const atStart = snapshot();
  // A beforeAll cleanup of the first beforeAll hook runs after every other afterAll and cleanup.
  return async () => {
    const leaks = await settledLeaks(atStart);
    if (leaks.length > 0) throw new Error(describeLeaks(leaks, 'this test file'));
  };
});

beforeEach((context) => {
  const before = snapshot();
  // Registered first, so it runs last: after afterEach hooks and the test's own onTestFinished.
  context.onTestFinished(async () => {
    const leaks = await settledLeaks(before, 2000, true);
    if (leaks.length > 0) throw new Error(describeLeaks(leaks, 'this test'));
  });
});
