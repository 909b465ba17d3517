/**
 * Every admin action, from the API or the CLI, runs through here so that it
 * leaves exactly one audit row: ok or refused with a summary, or failed with
 * the error's message (and the error is then thrown on to the caller).
 */
import { recordAudit, type AuditEntry, type AuditOutcome } from '../db/admin-audit.js';
import { firstLine } from '../repeated-problem.js';
import type { AdminContext } from './admin-context.js';

export interface ActionResult<T> {
  outcome: Exclude<AuditOutcome, 'failed'>;
  /** The audit's summary: counts for ok, the reason for refused. */
  detail: string;
  result: T;
}

export interface AuditedAction {
  /** The key's name (API) or `cli:<os user>`. */
  actor: string;
  action: string;
  parameters: Record<string, unknown>;
}

export async function runAudited<T>(
  context: Pick<AdminContext, 'db' | 'log'>,
  action: AuditedAction,
  run: () => Promise<ActionResult<T>>,
): Promise<ActionResult<T>> {
  let done: ActionResult<T>;
  try {
    done = await run();
  } catch (error) {
    await record(context, { ...action, outcome: 'failed', detail: firstLine(error) });
    throw error;
  }
  await record(context, { ...action, outcome: done.outcome, detail: done.detail });
  return done;
}

/**
 * A request refused before its action could run (the API's input checks):
 * its `refused` row, written (or logged) as runAudited writes its rows.
 */
export async function recordRefusal(
  context: Pick<AdminContext, 'db' | 'log'>,
  action: AuditedAction,
  reason: string,
): Promise<void> {
  await record(context, { ...action, outcome: 'refused', detail: reason });
}

/**
 * An audit row that cannot be written (the database went away mid-action)
 * does not undo or hide the action: the entry goes to the log in full
 * instead, so the journal still says who did what.
 */
async function record(context: Pick<AdminContext, 'db' | 'log'>, entry: AuditEntry): Promise<void> {
  try {
    await recordAudit(context.db, entry);
  } catch (error) {
    context.log.error({ audit: entry, err: firstLine(error) }, 'admin audit row could not be written');
  }
  context.log.info(
    { actor: entry.actor, action: entry.action, outcome: entry.outcome, detail: entry.detail },
    `admin ${entry.action} by ${entry.actor}: ${entry.outcome}`,
  );
}
