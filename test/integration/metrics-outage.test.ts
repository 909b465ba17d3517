/** /metrics during a database outage: the process metrics stay, the unreadable gauges say so. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/connect.js';
import { parseDatabaseUrl } from '../../src/db/database-url.js';
import { Metrics } from '../../src/metrics.js';

describe('metrics when the database does not answer', () => {
  it('still scrapes, counting each gauge it could not read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-metrics-'));
    // A database whose tables do not exist fails every query, as a database that is down does.
    const db = connectDatabase(parseDatabaseUrl(`sqlite:${path.join(dir, 'empty.sqlite')}`));
    try {
      const metrics = new Metrics();
      metrics.watchQueue(db, dir);
      await metrics.registry.metrics();
      // Counters are read while the gauges are still being read: a failure shows from the next scrape on.
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^media_worker_process_cpu_seconds_total /m);
      expect(text).toMatch(/^media_worker_scrape_failures_total\{gauge="media_worker_queue_items"\} [12]$/m);
      expect(text).toMatch(/^media_worker_disk_free_bytes \d+$/m);
      expect(text).not.toMatch(/^media_worker_queue_items\{/m);
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
