/**
 * A real worker process with trivial steps, spawned by the concurrency and
 * crash tests (and the claim benchmark): the real config, claim, lease,
 * heartbeat, fencing and shutdown code; only the steps are stand-ins.
 * Env: the usual settings plus RUN_LOG, HANG_ON, HANG_MARKER, ONCE.
 */
import { loadConfig } from '../../src/config.js';
import { connectDatabase } from '../../src/db/connect.js';
import { createLogger } from '../../src/log.js';
import { WorkerLoop } from '../../src/queue/worker-loop.js';
import { handleShutdownSignals } from '../../src/shutdown.js';
import { trivialSteps } from './trivial-steps.js';

const config = loadConfig(process.env);
const log = createLogger(config.logLevel, 'stderr');
const db = connectDatabase(config.database);
const loop = new WorkerLoop({
  ...config,
  db,
  version: 'test',
  authPauseMs: 1000,
  log,
  once: process.env.ONCE === '1',
  steps: trivialSteps({
    runLog: process.env.RUN_LOG ?? '/dev/null',
    workerId: config.workerId,
    ...(process.env.HANG_ON ? { hangOn: Number(process.env.HANG_ON) } : {}),
    ...(process.env.HANG_MARKER ? { hangMarker: process.env.HANG_MARKER } : {}),
    ...(process.env.SLOW_ON
      ? { slowOn: Number(process.env.SLOW_ON), slowMs: Number(process.env.SLOW_MS ?? 0) }
      : {}),
  }),
});
handleShutdownSignals(() => loop.stop(), log);
await loop.run();
await db.destroy();
