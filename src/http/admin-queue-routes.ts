/**
 * POST /api/admin/requeue, /heal, /pause and /resume: the same functions
 * `media-worker requeue|heal|pause|resume` run (src/admin/), audited under
 * the key's name.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin/admin-context.js';
import { DURATION_PATTERN, parseDuration } from '../admin/durations.js';
import { pauseAction, resumeAction } from '../admin/pause-actions.js';
import { healAction, requeueAction } from '../admin/queue-actions.js';
import { STEP_NAMES, type StepName } from '../db/step-columns.js';
import { sendBadRequest } from './api-errors.js';
import type { ApiKeyring } from './api-keys.js';
import { actorOf, adminRoute, flag, idList, sendAction } from './admin-route-parts.js';

const REQUEUE_BODY = {
  type: 'object',
  properties: {
    ids: idList('media ids; with failed, only those of them that failed'),
    failed: flag('only failed items; with no ids, every failed item'),
    since: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description: 'with failed: failed within (90s, 15m, 1h, 2d)',
    },
    step: {
      type: 'string',
      enum: [...STEP_NAMES],
      description: 'start over from this step (default: the failed or first unfinished one)',
    },
  },
} as const;

interface RequeueBody {
  ids?: number[];
  failed?: boolean;
  since?: string;
  step?: StepName;
}

const HEAL_BODY = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100_000, description: 'most items (default HEAL_BATCH)' },
  },
} as const;

const PAUSE_BODY = {
  type: 'object',
  properties: {
    reason: { type: 'string', maxLength: 500, description: 'why, for stats, /readyz and the audit' },
  },
} as const;

const EMPTY_BODY = { type: 'object', properties: {} } as const;

export function registerAdminQueueRoutes(
  app: FastifyInstance,
  context: AdminContext,
  keyring: ApiKeyring,
): void {
  registerRequeueRoute(app, context, keyring);
  app.post<{ Body: { limit?: number } }>(
    '/api/admin/heal',
    adminRoute(keyring, {
      action: 'heal',
      summary: 'Re-queue failed items whose last error was transient, now (as `media-worker heal`)',
      body: HEAL_BODY,
      answer: '{outcome, detail, result: {healed}}',
    }),
    async (request, reply) => sendAction(reply, await healAction(context, actorOf(request), request.body)),
  );
  app.post<{ Body: { reason?: string } }>(
    '/api/admin/pause',
    adminRoute(keyring, {
      action: 'pause',
      summary: 'Pause the fleet: no worker on any VM claims new items (in-flight items finish)',
      body: PAUSE_BODY,
      answer: '{outcome, detail, result: the pause state}',
    }),
    async (request, reply) => sendAction(reply, await pauseAction(context, actorOf(request), request.body)),
  );
  app.post(
    '/api/admin/resume',
    adminRoute(keyring, {
      action: 'resume',
      summary: 'Resume the fleet: workers claim again within one poll interval',
      body: EMPTY_BODY,
      answer: '{outcome, detail, result: the pause state}',
    }),
    async (request, reply) => sendAction(reply, await resumeAction(context, actorOf(request))),
  );
}

function registerRequeueRoute(app: FastifyInstance, context: AdminContext, keyring: ApiKeyring): void {
  app.post<{ Body: RequeueBody }>(
    '/api/admin/requeue',
    adminRoute(keyring, {
      action: 'requeue',
      summary: 'Put items back to work from a step, by ids or as failed items (as `media-worker requeue`)',
      body: REQUEUE_BODY,
      answer: '{outcome, detail, result: {selected, requeued, skipped}}',
    }),
    async (request, reply) => {
      const body = request.body;
      if ((body.ids?.length ?? 0) === 0 && body.failed !== true)
        return sendBadRequest(reply, {
          field: 'ids',
          message: 'ids must name at least one item, or give failed: true',
        });
      if (body.since !== undefined && body.failed !== true)
        return sendBadRequest(reply, { field: 'since', message: 'since only applies with failed: true' });
      const failedWithinMs = body.since === undefined ? undefined : parseDuration(body.since);
      const done = await requeueAction(context, actorOf(request), {
        ids: body.ids ?? [],
        failedOnly: body.failed === true,
        ...(failedWithinMs !== undefined ? { failedWithinMs } : {}),
        ...(body.step ? { fromStep: body.step } : {}),
      });
      return sendAction(reply, done);
    },
  );
}
