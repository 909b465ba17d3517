/** What the item runner is given, and what it reports for each claimed item. */
import type { Db } from '../db/connect.js';
import type { Logger } from '../log.js';
import type { Step } from '../steps/step.js';

export interface ItemRunnerOptions {
  db: Db;
  steps: readonly Step[];
  workerId: string;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  healIntervalMs: number;
  /** How long main API traffic pauses after an AUTH failure. */
  authPauseMs: number;
  log: Logger;
  onStepFinished?: (step: string, outcome: string, seconds: number) => void;
}

export type ItemOutcome = 'completed' | 'failed' | 'retry' | 'released' | 'lease_lost' | 'missing';
