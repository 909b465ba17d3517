/**
 * GET /api/admin/storage, POST /api/admin/cleanup and DELETE
 * /api/admin/test-data: the same functions `media-worker stats`, `cleanup`
 * and `delete-test-data` run (src/admin/), audited under the key's name.
 * Cleanup checks the store first, as the CLI does: 503 or 500 when it is
 * unreachable or not the configured one.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AdminContext } from '../admin/admin-context.js';
import type { ActionResult } from '../admin/audited.js';
import { cleanupAction } from '../admin/cleanup-action.js';
import {
  deleteTestDataAction,
  type DeleteTestDataRequest,
  type DeleteTestDataResult,
} from '../admin/delete-test-data.js';
import { DURATION_PATTERN, parseDuration } from '../admin/durations.js';
import { storageReport } from '../admin/storage-report.js';
import { TransientError, UsageError } from '../errors.js';
import { sendApiError, sendBadRequest } from './api-errors.js';
import type { ApiKeyring } from './api-keys.js';
import { actorOf, adminRoute, flag, idList, MAX_IDS, sendAction } from './admin-route-parts.js';

const STORE_QUERY = {
  type: 'object',
  properties: {
    store: {
      type: 'string',
      enum: ['true', 'false'],
      description: 'also list the store (a bucket: a request per 1,000 keys)',
    },
  },
} as const;

const CLEANUP_BODY = {
  type: 'object',
  properties: {
    expired: flag('items past expires_at, and originals past ORIGINALS_RETENTION_DAYS'),
    orphans: flag('files no row points at (older than an hour), and completed items whose files vanished'),
    dry_run: flag('report what would be removed; change nothing'),
  },
} as const;

const TEST_DATA_BODY = {
  type: 'object',
  properties: {
    ids: idList('only these items; each must be test data'),
    user_id: { type: 'integer', minimum: 1, description: 'only this user’s test data' },
    older_than: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description: 'only items created longer ago (90s, 15m, 1h, 2d)',
    },
    dry_run: flag('report what would be deleted; change nothing'),
  },
} as const;

const POSITIVE_ID = '^[1-9]\\d*$';
const POSITIVE_IDS = '^[1-9]\\d*(,[1-9]\\d*)*$';

/** The same filters as query parameters, for clients that cannot send a DELETE body. */
const TEST_DATA_QUERY = {
  type: 'object',
  properties: {
    // The body's limits (idList, user_id): positive ids, at most MAX_IDS of them (counted by the route).
    ids: {
      type: 'string',
      pattern: POSITIVE_IDS,
      description: `comma-separated media ids (at most ${MAX_IDS})`,
    },
    user_id: { type: 'string', pattern: POSITIVE_ID, description: 'only this user’s test data' },
    older_than: { type: 'string', pattern: DURATION_PATTERN, description: 'only items created longer ago' },
    dry_run: { type: 'string', enum: ['true', 'false'], description: 'report only' },
  },
} as const;

interface TestDataBody {
  ids?: number[];
  user_id?: number;
  older_than?: string;
  dry_run?: boolean;
}
type TestDataQuery = Partial<Record<keyof typeof TEST_DATA_QUERY.properties, string>>;

export function registerAdminStorageRoutes(
  app: FastifyInstance,
  context: AdminContext,
  keyring: ApiKeyring,
): void {
  app.get<{ Querystring: { store?: string } }>(
    '/api/admin/storage',
    adminRoute(keyring, {
      summary:
        'Storage: totals, by data type and format, dedup savings, retention removals, disk (alert flag)',
      description: 'A figure that cannot be known is null, and `unknown` says why under the same name.',
      querystring: STORE_QUERY,
      answer: 'the storage report',
    }),
    async (request, reply) =>
      reply
        .header('Cache-Control', 'no-store')
        .send(await storageReport(context, request.query.store === 'true')),
  );
  app.post<{ Body: { expired?: boolean; orphans?: boolean; dry_run?: boolean } }>(
    '/api/admin/cleanup',
    adminRoute(keyring, {
      action: 'cleanup',
      summary: 'Retention and orphan cleanup, or a dry run of it (as `media-worker cleanup`)',
      description: 'With neither expired nor orphans, both are done.',
      body: CLEANUP_BODY,
      answer: '{outcome, detail, result: the cleanup report}',
    }),
    async (request, reply) => {
      const { expired, orphans, dry_run: dryRun } = request.body;
      const none = expired !== true && orphans !== true;
      const done = await cleanupAction(context, actorOf(request), {
        expired: none || expired === true,
        orphans: none || orphans === true,
        testData: false,
        dryRun: dryRun === true,
      }).catch((error: unknown) => storeProblem(error));
      if ('unusable' in done) return sendApiError(reply, done.unusable, done.message);
      return sendAction(reply, done);
    },
  );
  registerTestDataRoute(app, context, keyring);
}

function registerTestDataRoute(app: FastifyInstance, context: AdminContext, keyring: ApiKeyring): void {
  app.delete<{ Body: TestDataBody; Querystring: TestDataQuery }>(
    '/api/admin/test-data',
    adminRoute(keyring, {
      action: 'delete-test-data',
      summary: 'Delete test data (is_test_data) and its files; production items are refused even when named',
      description:
        'Filters in the JSON body or in the query, not both. A request naming a production or unknown id deletes nothing (409).',
      body: TEST_DATA_BODY,
      querystring: TEST_DATA_QUERY,
      answer: '{outcome, detail, result: {dryRun, deleted, alreadyDeleted, refused}}',
      errors: [409],
    }),
    async (request, reply) => {
      const queryKeys = Object.keys(request.query);
      if (queryKeys.length > 0 && Object.keys(request.body).length > 0)
        return sendBadRequest(reply, {
          field: queryKeys[0]!,
          message: 'give the filters in the JSON body or in the query, not both',
        });
      const idCount = request.query.ids?.split(',').length ?? 0;
      if (idCount > MAX_IDS)
        return sendBadRequest(reply, {
          field: 'ids',
          message: `ids must name at most ${MAX_IDS} items (got ${idCount})`,
        });
      const filters = queryKeys.length > 0 ? fromQuery(request.query) : fromBody(request.body);
      return sendTestDataAnswer(reply, await deleteTestDataAction(context, actorOf(request), filters));
    },
  );
}

function fromBody(body: TestDataBody): DeleteTestDataRequest {
  const olderThanMs = body.older_than === undefined ? undefined : parseDuration(body.older_than);
  return {
    ...(body.ids ? { ids: body.ids } : {}),
    ...(body.user_id !== undefined ? { userId: body.user_id } : {}),
    ...(olderThanMs !== undefined ? { olderThanMs } : {}),
    dryRun: body.dry_run === true,
  };
}

function fromQuery(query: TestDataQuery): DeleteTestDataRequest {
  return fromBody({
    ...(query.ids ? { ids: query.ids.split(',').map(Number) } : {}),
    ...(query.user_id ? { user_id: Number(query.user_id) } : {}),
    ...(query.older_than ? { older_than: query.older_than } : {}),
    dry_run: query.dry_run === 'true',
  });
}

/**
 * cleanupAction's storage check (the CLI's, checkStorageAtStart) failing, as
 * the caller should hear it; the audit has it as `failed`. A bucket that does
 * not answer is 503 (try again); settings that no waiting fixes are 500,
 * with the message naming the setting (the caller holds an admin key).
 * Anything else goes on to the API's error handler.
 */
function storeProblem(error: unknown): { unusable: 'unavailable' | 'internal_error'; message: string } {
  if (error instanceof TransientError) return { unusable: 'unavailable', message: error.message };
  if (error instanceof UsageError) return { unusable: 'internal_error', message: error.message };
  throw error;
}

/** A refused request is a 409 naming the ids; the audit has it as `refused`. */
function sendTestDataAnswer(reply: FastifyReply, done: ActionResult<DeleteTestDataResult>): FastifyReply {
  if (done.outcome === 'refused') return sendApiError(reply, 'conflict', done.detail, 'ids');
  return sendAction(reply, done);
}
