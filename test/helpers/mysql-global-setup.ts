/**
 * vitest globalSetup: finds a MySQL/MariaDB for the whole run, in this order:
 * TEST_DATABASE_URL; testcontainers when a Docker engine is reachable; a
 * throwaway `mariadbd` started from the installed binary in a temp dir.
 * With CI=true, having none is an error: MySQL tests never silently skip there.
 */
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startLocalMariadb } from './local-mariadb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const found = process.env.TEST_DATABASE_URL
    ? { url: process.env.TEST_DATABASE_URL, stop: () => Promise.resolve() }
    : ((await startContainer()) ?? (await startLocalMariadb()));
  if (!found && process.env.CI === 'true') {
    throw new Error(
      'CI=true but no MySQL/MariaDB is available: set TEST_DATABASE_URL or install mariadb-server',
    );
  }
  if (!found)
    console.warn('\n*** no MySQL/MariaDB found: MySQL tests will not run (install mariadb-server) ***\n');
  project.provide('mysqlUrl', found?.url ?? null);
  return async () => {
    await found?.stop();
  };
}

async function startContainer(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (!fs.existsSync('/var/run/docker.sock') && !process.env.DOCKER_HOST) return undefined;
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('mariadb:11')
      .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' })
      .withExposedPorts(3306)
      .withWaitStrategy(Wait.forLogMessage(/ready for connections/, 2))
      .start();
    const url = `mysql://root@127.0.0.1:${container.getMappedPort(3306)}/mysql`;
    return { url, stop: async () => void (await container.stop()) };
  } catch (error) {
    console.warn(`testcontainers unavailable (${(error as Error).message}); trying a local mariadbd`);
    return undefined;
  }
}
