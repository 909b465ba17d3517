import type { Command } from 'commander';
import { App } from '../app.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { handleShutdownSignals } from '../shutdown.js';
import { configFor } from './context.js';
import { routeStrayOutputToLog } from './stray-output.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run the worker: claim pending items and process them until stopped (SIGTERM stops gracefully)',
    )
    .option('--once', 'exit when the queue holds no more work instead of waiting for more')
    .option('--concurrency <n>', 'items processed at once (CONCURRENCY)')
    .option('--no-migrate', 'do not apply pending migrations at start')
    .option('--no-serve', 'do not start the HTTP server (a work-only process)')
    .option('--no-work', 'do not process items (a serve-only process)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ media-worker run\n  $ media-worker run --once --concurrency 2 --no-serve\n  $ media-worker run --no-work --http-port 8080\n  $ DATABASE_URL=mysql://mw:secret@db:3306/media media-worker run',
    )
    .action(
      async (
        options: { once?: boolean; migrate: boolean; serve: boolean; work: boolean },
        command: Command,
      ) => {
        if (!options.serve && !options.work)
          throw new UsageError('--no-serve and --no-work together leave nothing to run');
        if (options.once && !options.work)
          throw new UsageError('--once drains the queue: it needs the worker (drop --no-work)');
        const config = configFor(command);
        const log = createLogger(config.logLevel, 'stdout');
        routeStrayOutputToLog(log);
        const app = new App(config, log);
        const removeHandlers = handleShutdownSignals(() => app.stop(), log);
        try {
          await app.run({
            once: options.once === true,
            migrate: options.migrate,
            serve: options.serve,
            work: options.work,
          });
        } finally {
          removeHandlers();
          await app.close();
        }
      },
    );
}
