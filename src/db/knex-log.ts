/**
 * knex's own messages go through pino instead of console.log. "Acquire
 * connection error: …" with a stack, several a second while the database is
 * down, becomes a debug line: the query that wanted the connection fails with
 * the same error and its caller reports it, once per interval. Other warnings
 * are one line per kind, repeated at most once per interval with a count.
 */
import type { Knex } from 'knex';
import type { Logger } from '../log.js';
import { RepeatedProblem, firstLine } from '../repeated-problem.js';

/** Distinct messages remembered; past this, new kinds share one entry (a bound on memory). */
const MAX_KINDS = 50;

export function knexLogFor(log: Logger): Knex.Config['log'] {
  const knexLog = log.child({ component: 'knex' });
  const kinds = new Map<string, RepeatedProblem>();
  const warn = (message: unknown) => {
    const text = typeof message === 'string' ? message : firstLine(message);
    // The query that wanted the connection fails with the same error, and its caller reports it.
    if (text.startsWith('Acquire connection error'))
      return knexLog.debug({ detail: text }, 'could not acquire a database connection');
    // Keyed by the message's first line: a stack below it does not make a new kind.
    const kind = kinds.size < MAX_KINDS ? firstLine(text) : 'other';
    let problem = kinds.get(kind);
    if (!problem) kinds.set(kind, (problem = new RepeatedProblem(knexLog, 'database driver warning')));
    problem.report(text);
  };
  return {
    warn,
    error: warn,
    deprecate: (message: unknown) => warn(`deprecated: ${String(message)}`),
    debug: (message: unknown) => knexLog.debug({ detail: message }, 'database driver debug'),
  };
}
