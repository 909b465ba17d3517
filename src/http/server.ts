/** The HTTP server (fastify, logging through our pino): /serve, /metrics, /healthz, /readyz, the analysis API. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { registerAnalysisRoute } from './analysis-route.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerManifestRoute } from './manifest-route.js';
import { registerMediaStatusRoutes } from './media-status-route.js';
import { registerServeRoute } from './serve-route.js';
import type { VariantOpener } from './variant-file.js';
import type { VariantLookup } from './variant-lookup.js';

export interface ServerOptions {
  db: Db;
  /** Where /serve reads a variant's bytes (the store, or the read-through cache in front of a bucket). */
  openVariant: VariantOpener;
  publicBaseUrl?: string;
  checkStorage: () => Promise<void>;
  localDiskDir: string;
  metrics: Metrics;
  lookup: VariantLookup;
  log: Logger;
  mediaApiKey: string | undefined;
  diskAlertPercent: number;
  mainApiAuthProblem: () => string | undefined;
}

export function createServer(options: ServerOptions): FastifyInstance {
  // Per-request logs would drown the journal at serving rates; errors are still logged.
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  registerServeRoute(app, {
    openVariant: options.openVariant,
    lookup: options.lookup,
    ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
    onServed: options.metrics.onServed,
  });
  registerHealthRoutes(app, options);
  registerAnalysisRoute(app, options.db, options.mediaApiKey);
  registerMediaStatusRoutes(app, options.db, options.mediaApiKey);
  registerManifestRoute(app, options.db, options.mediaApiKey);
  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.header('Content-Type', options.metrics.registry.contentType).send(body);
  });
  return app;
}
