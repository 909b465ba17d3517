/**
 * Fleet-wide pause and resume, as `media-worker pause|resume` and
 * POST /api/admin/pause|resume run them. Workers notice within one poll
 * interval (queue/pause-watch.ts); items already claimed finish.
 */
import { pauseFleet, resumeFleet, type PauseState } from '../db/fleet-pause.js';
import type { AdminContext } from './admin-context.js';
import { runAudited, type ActionResult } from './audited.js';

export async function pauseAction(
  context: Pick<AdminContext, 'db' | 'log'>,
  actor: string,
  request: { reason?: string },
): Promise<ActionResult<PauseState>> {
  const reason = request.reason ?? null;
  return runAudited(context, { actor, action: 'pause', parameters: { reason } }, async () => {
    const { changed, state } = await pauseFleet(context.db, actor, reason);
    const detail = changed
      ? 'fleet paused: no worker claims new items'
      : `already paused by ${state.pausedBy ?? 'unknown'} since ${isoTime(state.pausedAt)}`;
    return { outcome: 'ok', detail, result: state };
  });
}

export async function resumeAction(
  context: Pick<AdminContext, 'db' | 'log'>,
  actor: string,
): Promise<ActionResult<PauseState>> {
  return runAudited(context, { actor, action: 'resume', parameters: {} }, async () => {
    const { changed, state } = await resumeFleet(context.db);
    return { outcome: 'ok', detail: changed ? 'fleet resumed' : 'was not paused', result: state };
  });
}

function isoTime(ms: number | null): string {
  return ms === null ? 'an unknown time' : new Date(ms).toISOString();
}
