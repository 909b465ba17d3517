/**
 * A real worker process with trivial steps, spawned by the concurrency and
 * crash tests (and the claim benchmark): the real config, claim, lease,
 * heartbeat, fencing and shutdown code; only the steps are stand-ins.
 * Env: the usual settings plus RUN_LOG, HANG_ON, HANG_MARKER, ONCE, and
 * REPORT_CPU (prints the process's CPU time at exit), START_GATE: when set, the worker writes START_GATE.ready.<pid> once loaded
 * and waits for the file START_GATE before it claims anything (the claim
 * bench starts every process before it measures any).
 */
import fs from 'node:fs';
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
const gate = process.env.START_GATE;
if (gate) {
  fs.writeFileSync(`${gate}.ready.${process.pid}`, '');
  while (!fs.existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 5));
}
await loop.run();
await db.destroy();
if (process.env.REPORT_CPU) {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  process.stderr.write(`cpu-us ${userCPUTime + systemCPUTime}\n`);
}
