import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/mysql-global-setup.ts'],
    // Fails a test (and a file) that leaves a server, timer, child process or Db running.
    setupFiles: ['test/helpers/leak-check-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // 2 cores: tests spawn worker processes and a database server of their own.
    maxWorkers: 2,
  },
});
