/**
 * Signals: the first SIGTERM/SIGINT asks for a graceful stop; a second one
 * exits at once (leases make that safe: another worker takes over later).
 */
import type { Logger } from './log.js';

export function handleShutdownSignals(stop: () => void, log: Logger): () => void {
  let requested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      log.warn(
        { signal },
        'second signal: exiting now; leases of unfinished items will expire and be taken over',
      );
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    requested = true;
    log.info({ signal }, 'stopping: no new claims; finishing in-flight items (send again to exit at once)');
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
