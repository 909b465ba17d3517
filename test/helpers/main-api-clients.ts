/** The real main API client and poller, pointed at a fake main API, with test-sized settings. */
import { loadConfig, retentionPolicy } from '../../src/config.js';
import type { Db } from '../../src/db/connect.js';
import { MainApiAuthState } from '../../src/intake/main-api-auth.js';
import { MainApiClient, type MainApiClientOptions } from '../../src/intake/main-api-client.js';
import { MainApiPoller, type PollerOptions } from '../../src/intake/main-api-poller.js';
import { silentLogger } from '../../src/log.js';
import type { FakeMainApi } from './fake-main-api.js';

export function fakeMainApiClient(
  api: FakeMainApi,
  overrides: Partial<MainApiClientOptions> = {},
): MainApiClient {
  return new MainApiClient({
    baseUrl: api.url,
    apiKey: 'k',
    timeoutMs: 3000,
    downloadDeadlineMs: 10_000,
    maxUploadBytes: 5_242_880,
    pendingListMaxBytes: 8 * 2 ** 20,
    auth: new MainApiAuthState(silentLogger(), 300),
    ...overrides,
  });
}

export function fakeMainApiPoller(
  db: Db,
  client: MainApiClient,
  overrides: Partial<PollerOptions> = {},
): MainApiPoller {
  return new MainApiPoller({
    db,
    client,
    log: silentLogger(),
    pollIntervalMs: 50,
    idleMaxMs: 200,
    onNewWork: () => undefined,
    retention: retentionPolicy(loadConfig({})),
    ...overrides,
  });
}
