/**
 * Before anything is claimed, the store must work as configured. What no
 * waiting fixes stops the process with exit 2 and one line naming the
 * setting: a missing bucket, refused or absent credentials, a directory that
 * is not ours to write. A bucket that does not answer yet (its endpoint
 * restarting, a network partition, 503 SlowDown) is waited for, as the
 * database is: every VM rebooting into a short S3 outage must come back by
 * itself. Meanwhile /readyz says why (the server is up), and nothing is
 * claimed. A directory failing otherwise (ENOSPC, EIO) is an ordinary error.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { TransientError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { ReconnectDelay } from '../db/reconnect-delay.js';
import { RepeatedProblem } from '../repeated-problem.js';
import { StorageConfigError, type ObjectStore } from './object-store.js';
import { checkStorage, storageLocation, type StorageSettings } from './object-store-for.js';

/**
 * Undefined when the store works; the reason when a bucket did not answer
 * (hand it to waitForStorage once the server is up); throws otherwise.
 */
export async function checkStorageAtStart(
  store: ObjectStore,
  config: StorageSettings,
): Promise<TransientError | undefined> {
  try {
    await checkStorage(store, config);
    return undefined;
  } catch (error) {
    if (error instanceof StorageConfigError) throw new UsageError(error.message);
    if (storageLocation(config).kind === 's3' && error instanceof TransientError) return error;
    throw error;
  }
}

/** Resolves true once the store answers, false when `signal` aborts; throws when waiting cannot help. */
export async function waitForStorage(
  store: ObjectStore,
  config: StorageSettings,
  options: { log: Logger; signal: AbortSignal },
): Promise<boolean> {
  const delay = new ReconnectDelay();
  const problem = new RepeatedProblem(
    options.log,
    'storage unreachable; waiting for it before claiming work',
  );
  while (!options.signal.aborted) {
    try {
      await checkStorage(store, config);
      problem.resolved('storage reachable');
      return true;
    } catch (error) {
      if (error instanceof StorageConfigError) throw new UsageError(error.message);
      if (!(error instanceof TransientError)) throw error;
      const retryInMs = delay.next();
      problem.report(error, { retryInMs, storage: store.description });
      await pause(retryInMs, options.signal);
    }
  }
  return false;
}

/** Waits `ms`, or until `signal` aborts (a shutdown): then it resolves early instead of rejecting. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, { signal }).catch(() => undefined);
}
