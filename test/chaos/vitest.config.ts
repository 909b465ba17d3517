/**
 * The chaos suite (`npm run test:chaos`): real `media-worker run` processes
 * against MariaDB and the fake main API, one scenario at a time (each uses
 * both cores). Files are *.chaos.ts so that `npm test` never picks them up.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    globalSetup: ['test/helpers/mysql-global-setup.ts'],
    include: ['test/chaos/**/*.chaos.ts'],
    // Every wait inside a scenario has its own, shorter deadline with a message; these are backstops.
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ['verbose'],
  },
});
