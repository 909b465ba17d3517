/**
 * The media-worker command line. Exit codes scripts can trust:
 * 0 ok, 1 runtime failure, 2 usage error (bad flag, argument or configuration).
 */
import { Command, CommanderError, Option } from 'commander';
import { OPTIONS, flagName } from '../config.js';
import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerAuditCommand } from './audit-command.js';
import { registerCleanupCommand } from './cleanup-command.js';
import { registerDeleteTestDataCommand } from './delete-test-data-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerHealCommand } from './heal-command.js';
import { registerIngestCommand } from './ingest-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerPauseCommands } from './pause-command.js';
import { registerReanalyseCommand } from './reanalyse-command.js';
import { registerRequeueCommand } from './requeue-command.js';
import { registerRenderCommand } from './render-command.js';
import { registerRunCommand } from './run-command.js';
import { registerShowCommand } from './show-command.js';
import { registerStatsCommand } from './stats-command.js';
import { registerStorageCommand } from './storage-command.js';

/** Keys belong in the env file: their flags work but are not advertised. */
const SECRET_SETTINGS = ['MEDIA_API_KEY', 'ADMIN_API_KEYS', 'ADMIN_API_KEY', 'ANALYSIS_REMOTE_KEY'];

function buildProgram(): Command {
  const program = new Command('media-worker')
    .description('turns uploaded images into permanent, analysed, responsive media, and serves them')
    .version(VERSION)
    .configureOutput({ outputError: printUsageError })
    .exitOverride();
  // Every setting of the option table is also a global flag (env name in kebab-case).
  for (const spec of OPTIONS) {
    if (spec.env === 'CONCURRENCY') continue; // `run --concurrency` owns this flag
    program.addOption(
      new Option(`--${flagName(spec.env)} <value>`, `${spec.doc} (${spec.env})`).hideHelp(
        SECRET_SETTINGS.includes(spec.env),
      ),
    );
  }
  for (const register of [
    registerRunCommand,
    registerMigrateCommand,
    registerIngestCommand,
    registerRequeueCommand,
    registerRenderCommand,
    registerReanalyseCommand,
    registerHealCommand,
    registerStatsCommand,
    registerShowCommand,
    registerCleanupCommand,
    registerDeleteTestDataCommand,
    registerPauseCommands,
    registerAuditCommand,
    registerDoctorCommand,
    registerStorageCommand,
  ]) {
    register(program);
  }
  for (const command of program.commands)
    command.exitOverride().configureOutput({ outputError: printUsageError });
  return program;
}

/**
 * commander's errors ("error: unknown command 'x'", and on a second line "(Did you mean …?)")
 * as the one line the README promises for usage errors, with the hint on the same line.
 */
function printUsageError(text: string, write: (text: string) => void): void {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  write(`media-worker: ${message} (add --help for usage)\n`);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

/** One line on stderr, whatever was thrown; the stack only with LOG_LEVEL=debug. */
function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message (or the help/version text).
    return error.exitCode === 0 ? 0 : 2;
  }
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`media-worker: ${message}\n`);
  if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return error instanceof UsageError ? 2 : 1;
}

process.exitCode = await main(process.argv);
