/**
 * The admin API (/api/admin/…, scope `admin`): what `media-worker stats`
 * shows, the audit, and the actions (admin-queue-routes.ts,
 * admin-storage-routes.ts). Routes and CLI commands call the same functions
 * (src/admin/); every action leaves an audit row under the key's name,
 * and so does an action refused with a 400 (admin-refusals.ts).
 * Mutations are POST/DELETE with JSON bodies; keys are Bearer tokens only
 * (no cookies), so cross-site request forgery has nothing to ride on.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin/admin-context.js';
import { collectStats } from '../admin/stats-report.js';
import { AUDIT_OUTCOMES, listAudit } from '../db/admin-audit.js';
import type { ApiKeyring } from './api-keys.js';
import { registerAdminQueueRoutes } from './admin-queue-routes.js';
import { auditRefusals } from './admin-refusals.js';
import { adminRoute } from './admin-route-parts.js';
import { registerAdminStorageRoutes } from './admin-storage-routes.js';
import { sendBadRequest } from './api-errors.js';

const MAX_AUDIT_PAGE = 100;

const STATS_QUERY = {
  type: 'object',
  properties: { store: { type: 'string', enum: ['true', 'false'], description: 'also list the store' } },
} as const;

const AUDIT_QUERY = {
  type: 'object',
  properties: {
    actor: { type: 'string', maxLength: 128, description: 'only this actor (a key name, or cli:<user>)' },
    action: {
      type: 'string',
      maxLength: 32,
      description: 'only this action (requeue, heal, cleanup, delete-test-data, pause, resume)',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_AUDIT_PAGE,
      description: `page size, 1–${MAX_AUDIT_PAGE} (default 50)`,
    },
    cursor: { type: 'string', description: 'the next_cursor of the previous page' },
  },
} as const;

interface AuditQuery {
  actor?: string;
  action?: string;
  limit?: number;
  cursor?: string;
}

export function registerAdminRoutes(api: FastifyInstance, context: AdminContext, keyring: ApiKeyring): void {
  void api.register((app, _options, done) => {
    app.addHook('onSend', auditRefusals(context));
    registerReadRoutes(app, context, keyring);
    registerAdminQueueRoutes(app, context, keyring);
    registerAdminStorageRoutes(app, context, keyring);
    done();
  });
}

function registerReadRoutes(app: FastifyInstance, context: AdminContext, keyring: ApiKeyring): void {
  app.get<{ Querystring: { store?: string } }>(
    '/api/admin/stats',
    adminRoute(keyring, {
      summary: 'What `media-worker stats --json` shows: queue, failures, workers, storage, disk, the pause',
      querystring: STATS_QUERY,
      answer: 'the stats',
    }),
    async (request, reply) => {
      const stats = await collectStats(context, request.query.store === 'true' ? context.store : undefined);
      return reply.header('Cache-Control', 'no-store').send(stats);
    },
  );
  app.get<{ Querystring: AuditQuery }>(
    '/api/admin/audit',
    adminRoute(keyring, {
      summary: 'The admin audit, newest first: who did what, with which parameters, when, and the outcome',
      description: `Outcomes: ${AUDIT_OUTCOMES.join(', ')}. Keyset-paginated by id: pass cursor=next_cursor.`,
      querystring: AUDIT_QUERY,
      answer: '{entries, next_cursor}',
    }),
    async (request, reply) => {
      const { actor, action, limit, cursor } = request.query;
      const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
      if (beforeId === null)
        return sendBadRequest(reply, {
          field: 'cursor',
          message: 'cursor is not a cursor this API gave out',
        });
      const page = await listAudit(context.db, {
        ...(actor !== undefined ? { actor } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(beforeId !== undefined ? { beforeId } : {}),
        limit: limit ?? 50,
      });
      return reply.header('Cache-Control', 'no-store').send({
        entries: page.entries,
        next_cursor: page.lastId === null ? null : encodeCursor(page.lastId),
      });
    },
  );
}

/** Opaque to callers; the id of the last entry of the page. */
function encodeCursor(id: number): string {
  return Buffer.from(`audit:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number | null {
  const match = /^audit:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : null;
}
