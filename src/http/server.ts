/**
 * The HTTP server (fastify, logging through our pino): /serve, /metrics,
 * /healthz, /readyz, and the API under /api with its OpenAPI document
 * (GET /api/openapi.json, generated from the route schemas) and docs page
 * (/api/docs). The API shares one error shape and handler, the key check,
 * and a rate limit per key; /serve and the probes have neither. The operator
 * dashboard (/admin) is its own scope with its own session login.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import http, { type IncomingMessage } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerFactory,
} from 'fastify';
import type { AdminOptions } from '../admin/admin-context.js';
import { registerDashboard, sendDashboardNotFound } from '../dashboard/dashboard-routes.js';
import type { SessionSettings } from '../dashboard/dashboard-session.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { VERSION } from '../version.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerAnalysisRoute } from './analysis-route.js';
import { API_ERROR_SCHEMA, createApiErrorHandler, sendApiError } from './api-errors.js';
import { ApiKeyring, type NamedKey } from './api-keys.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerManifestRoute } from './manifest-route.js';
import { registerMediaStatusRoutes } from './media-status-route.js';
import { ServeHotPath } from './serve-hot-path.js';
import { registerServeRoute } from './serve-route.js';
import { registerSubmitRoute, type SubmitOptions } from './submit-route.js';
import type { VariantOpener } from './variant-file.js';
import type { ServableVariant, VariantLookup } from './variant-lookup.js';

export interface ServerOptions {
  db: Db;
  /** Where /serve reads a variant's bytes (the store, or the read-through cache in front of a bucket). */
  openVariant: VariantOpener;
  /** A variant's body when memory holds it (variant-source.ts): what the hot path answers with. */
  heldVariant?: (variant: ServableVariant) => Buffer | undefined;
  publicBaseUrl?: string;
  checkStorage: () => Promise<void>;
  localDiskDir: string;
  metrics: Metrics;
  lookup: VariantLookup;
  log: Logger;
  mediaApiKey: string | undefined;
  /** ADMIN_API_KEYS and ADMIN_API_KEY (config.ts adminKeysOf); none: the admin API answers nobody. */
  adminKeys?: readonly NamedKey[];
  /** READONLY_API_KEYS: the dashboard and the admin API's reads, no actions. */
  readOnlyKeys?: readonly NamedKey[];
  /** Requests per minute per key (per address without one); default 600. */
  apiRateLimit?: number;
  diskAlertPercent: number;
  mainApiAuthProblem: () => string | undefined;
  /** Where POST /api/media stores uploads, and its limits; without it the route answers 503. */
  submit?: SubmitOptions;
  /** The store and settings the admin routes (/api/admin/…) need; without it they are not registered. */
  admin?: AdminOptions;
  /** TRUST_PROXY: proxies whose X-Forwarded-For / -Proto fastify believes (request.ip, request.protocol). */
  trustProxy?: readonly string[];
  /** The operator dashboard at /admin (needs `admin`); without it /admin is not served. */
  dashboard?: SessionSettings;
}

/** Header and URL limits: a request line or headers beyond them are refused before any route runs. */
const MAX_HEADER_BYTES = 16 * 1024;
/**
 * Above any id or name a route takes, so a too-long one reaches its route
 * and gets a 400 naming the parameter rather than a 404 "no route"; the
 * header limit bounds the whole URL anyway.
 */
const MAX_PARAM_LENGTH = 1024;
const JSON_BODY_LIMIT = 64 * 1024;
/**
 * A request, headers and body, must arrive within this: an upload that stalls
 * would otherwise hold one of its key's upload slots until TCP gives up
 * (fastify's default is no limit). At least 5 minutes, and long enough for
 * the largest upload at 16 KiB/s; a request over it gets Node's 408.
 */
function requestTimeoutMs(maxUploadBytes: number | undefined): number {
  return Math.max(300_000, Math.ceil((maxUploadBytes ?? 0) / (16 * 1024)) * 1000);
}

/**
 * A /serve hit logs only on a fault, and those lines carry the media id: it
 * gets the server's logger itself rather than a child made per request (a
 * child per hit was a tenth of /serve's CPU). Every other route gets the
 * usual child with its request id.
 */
function requestLogger(
  logger: FastifyBaseLogger,
  bindings: Parameters<FastifyBaseLogger['child']>[0],
  options: Parameters<FastifyBaseLogger['child']>[1],
  rawRequest: IncomingMessage,
): FastifyBaseLogger {
  return rawRequest.url?.startsWith('/serve/') ? logger : logger.child(bindings, options);
}

/** What serverWithHotPath reads of fastify's options. */
interface FactoryOptions {
  http?: http.ServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * The HTTP server as fastify would make it (its options, its timeouts), with
 * /serve's hot path in front: a request it answers never reaches fastify.
 */
function serverWithHotPath(hotPath: ServeHotPath | undefined): FastifyServerFactory {
  return (handler, fastifyOptions) => {
    // fastify passes its options with its defaults filled in (fastify.js), as it would use them itself.
    const options = fastifyOptions as FactoryOptions;
    const server = http.createServer(options.http ?? {}, (request, response) => {
      if (!hotPath?.answer(request, response)) handler(request, response);
    });
    if (options.keepAliveTimeout) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}

export function createServer(options: ServerOptions): FastifyInstance {
  // Hits for variants held in memory; without PUBLIC_MEDIA_BASE_URL only (with it, /serve redirects).
  const hotPath =
    options.heldVariant && !options.publicBaseUrl
      ? new ServeHotPath({
          lookup: options.lookup,
          held: options.heldVariant,
          onServed: options.metrics.onServed,
          onHit: options.metrics.onServeMemoryHit,
        })
      : undefined;
  // Per-request logs would drown the journal at serving rates; errors are still logged.
  const app = Fastify({
    serverFactory: serverWithHotPath(hotPath),
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLogger,
    return503OnClosing: true,
    bodyLimit: JSON_BODY_LIMIT,
    requestTimeout: requestTimeoutMs(options.submit?.maxUploadBytes),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    ...(options.trustProxy ? { trustProxy: [...options.trustProxy] } : {}),
  });
  app.addHook('preClose', (done) => {
    hotPath?.stop();
    done();
  });
  app.decorateRequest('principal', null);
  app.addSchema(API_ERROR_SCHEMA);
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'media-worker',
        version: VERSION,
        description: 'Submit, track, list and manage media; serve its variants. See docs/http-api.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  void app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  void app.register(async (scope) => registerRoutes(scope, options));
  return app;
}

async function registerRoutes(app: FastifyInstance, options: ServerOptions): Promise<void> {
  const keyring = new ApiKeyring(options.mediaApiKey, options.adminKeys ?? [], options.readOnlyKeys ?? []);
  registerServeRoute(app, {
    openVariant: options.openVariant,
    lookup: options.lookup,
    ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
    onServed: options.metrics.onServed,
  });
  registerHealthRoutes(app, options);
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['health'] } },
    async (_request, reply) => {
      const body = await options.metrics.registry.metrics();
      return reply.header('Content-Type', options.metrics.registry.contentType).send(body);
    },
  );
  await app.register(async (api) => registerApiRoutes(api, options, keyring));
  const { admin, dashboard } = options;
  if (admin && dashboard)
    await app.register(async (scope) =>
      registerDashboard(scope, {
        admin: { db: options.db, log: options.log, ...admin },
        keyring,
        settings: dashboard,
      }),
    );
  app.setNotFoundHandler((request, reply) =>
    dashboard && admin && /^\/admin(\/|$|\?)/.test(request.url)
      ? sendDashboardNotFound(request, reply)
      : sendApiError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}

/** Everything under /api, in one encapsulated scope: its error handler, 404 and rate limit stay inside. */
async function registerApiRoutes(
  api: FastifyInstance,
  options: ServerOptions,
  keyring: ApiKeyring,
): Promise<void> {
  api.setErrorHandler(createApiErrorHandler(api.log as Logger));
  await api.register(rateLimit, {
    max: options.apiRateLimit ?? 600,
    timeWindow: '1 minute',
    hook: 'onRequest',
    // One budget per key; callers without a valid key share one per address (their 401s are cheap anyway).
    keyGenerator: (request) => {
      const principal = keyring.identify(request.headers.authorization);
      return principal ? `key:${principal.name}` : `address:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `more than ${context.max} requests a minute for this key; retry in ${context.after}`,
    }),
  });
  api.get(
    '/api/openapi.json',
    { schema: { summary: 'This document (OpenAPI 3.1)', tags: ['docs'] } },
    async (_request, reply) => reply.header('Cache-Control', 'no-cache').send(api.swagger()),
  );
  registerAnalysisRoute(api, options.db, keyring);
  registerMediaStatusRoutes(api, options.db, keyring);
  registerManifestRoute(api, options.db, keyring);
  await api.register(async (scope) => registerSubmitRoute(scope, options, keyring, options.submit));
  if (options.admin)
    registerAdminRoutes(api, { db: options.db, log: options.log, ...options.admin }, keyring);
}
