/**
 * Steps that do almost nothing but leave evidence: each run appends
 * "<mediaId> <step> <workerId>" to a log file (O_APPEND, one write per line),
 * so a test can prove every step of every item ran exactly once.
 */
import fs from 'node:fs';
import type { StepName } from '../../src/db/step-columns.js';
import type { Step } from '../../src/steps/step.js';

export interface TrivialStepOptions {
  runLog: string;
  workerId: string;
  /** Media id whose retrieve step never finishes (the process is to be killed). */
  hangOn?: number;
  hangMarker?: string;
  /** Media id whose retrieve step takes `slowMs` (longer than a lease: heartbeats must keep it). */
  slowOn?: number;
  slowMs?: number;
}

export function trivialSteps(options: TrivialStepOptions): Step[] {
  const step = (name: StepName): Step => ({
    name,
    async run(context) {
      fs.appendFileSync(options.runLog, `${context.media.id} ${name} ${options.workerId}\n`);
      if (name === 'retrieve' && context.media.id === options.hangOn) {
        fs.writeFileSync(options.hangMarker ?? `${options.runLog}.hang`, String(process.pid));
        await new Promise(() => undefined);
      }
      if (name === 'retrieve' && context.media.id === options.slowOn) {
        fs.writeFileSync(`${options.runLog}.slow`, String(process.pid));
        await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 0));
      }
      await new Promise((resolve) => setImmediate(resolve));
      return { status: 'completed' };
    },
  });
  return [step('retrieve'), step('callback')];
}
