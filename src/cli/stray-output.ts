/**
 * For `run`, whose stdout is the journal: everything the process prints is a
 * pino line. Libraries that write with console.* (mysql2's rare warnings),
 * Node's process warnings, and a crash's stack are turned into structured
 * lines instead of raw text; repeats are counted, not printed again.
 */
import type { Logger } from '../log.js';
import { RepeatedProblem, firstLine } from '../repeated-problem.js';

const MAX_KINDS = 50;

export function routeStrayOutputToLog(log: Logger): void {
  const strayLog = log.child({ component: 'stray-output' });
  const kinds = new Map<string, RepeatedProblem>();
  const report = (source: string, text: string) => {
    const kind = kinds.size < MAX_KINDS ? `${source}:${firstLine(text)}` : 'other';
    let problem = kinds.get(kind);
    if (!problem) kinds.set(kind, (problem = new RepeatedProblem(strayLog, `${source} output`)));
    problem.report(text);
  };
  const print =
    (source: string) =>
    (...args: unknown[]) =>
      report(source, args.map((arg) => (typeof arg === 'string' ? arg : firstLine(arg))).join(' '));
  console.log = console.info = print('console.log');
  console.warn = print('console.warn');
  console.error = print('console.error');
  console.debug = console.trace = (...args: unknown[]) => strayLog.debug({ args }, 'console.debug output');
  // Node prints warnings only while a 'warning' listener of its own is attached.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => report('process warning', `${warning.name}: ${warning.message}`));
  const crash = (what: string) => (error: unknown) => {
    strayLog.fatal(
      { err: error instanceof Error ? { message: error.message, stack: error.stack } : error },
      what,
    );
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception: exiting (systemd restarts the service)'));
  process.on('unhandledRejection', crash('unhandled rejection: exiting (systemd restarts the service)'));
}
