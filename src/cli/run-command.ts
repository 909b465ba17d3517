import type { Command } from 'commander';
import { App } from '../app.js';
import { createLogger } from '../log.js';
import { handleShutdownSignals } from '../shutdown.js';
import { configFor } from './context.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run the worker: claim pending items and process them until stopped (SIGTERM stops gracefully)',
    )
    .option('--once', 'exit when the queue holds no more work instead of waiting for more')
    .option('--concurrency <n>', 'items processed at once (CONCURRENCY)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker run\n  $ media-worker run --once --concurrency 2\n  $ DATABASE_URL=mysql://mw:secret@db:3306/media media-worker run',
    )
    .action(async (options: { once?: boolean; migrate: boolean }, command: Command) => {
      const config = configFor(command);
      const log = createLogger(config.logLevel, 'stdout');
      const app = new App(config, log);
      const removeHandlers = handleShutdownSignals(() => app.stop(), log);
      try {
        await app.run({ once: options.once === true, migrate: options.migrate });
      } finally {
        removeHandlers();
        await app.close();
      }
    });
}
