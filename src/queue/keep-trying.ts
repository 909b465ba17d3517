/**
 * Runs an operation until it works or the worker is stopping: for the start-up
 * steps that must not crash the process when the database blips (registering
 * the worker). Waits back off 1 s → 30 s; failures are logged as one lasting
 * problem, not a line each.
 */
import { ReconnectDelay } from '../db/reconnect-delay.js';
import type { RepeatedProblem } from '../repeated-problem.js';
import type { Sleeper } from './sleeper.js';

export interface KeepTryingOptions {
  sleeper: Sleeper;
  isStopping: () => boolean;
  problem: RepeatedProblem;
}

/** True once `operation` has succeeded; false when stopped first. */
export async function keepTrying(
  operation: () => Promise<unknown>,
  { sleeper, isStopping, problem }: KeepTryingOptions,
): Promise<boolean> {
  const delay = new ReconnectDelay();
  while (!isStopping()) {
    try {
      await operation();
      problem.resolved();
      return true;
    } catch (error) {
      const retryInMs = delay.next();
      problem.report(error, { retryInMs });
      await sleeper.sleep(retryInMs);
    }
  }
  return false;
}
