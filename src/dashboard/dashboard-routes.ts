/**
 * The operator dashboard at /admin (DASHBOARD=off leaves it out): server-
 * rendered pages that read without JavaScript, a little script for live
 * refresh, and forms for the actions. Every page and action calls the same
 * admin functions as the CLI and /api/admin. Everything under /admin but the
 * login page and the assets needs a session; every POST needs the session's
 * CSRF token; a read-only session is refused every POST but logout.
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext } from '../admin/admin-context.js';
import { pauseAction, resumeAction } from '../admin/pause-actions.js';
import { readPauseState } from '../db/fleet-pause.js';
import type { ApiKeyring } from '../http/api-keys.js';
import { API_ERROR_STATUS, classifyRequestError, createErrorReporter } from '../http/api-errors.js';
import { registerDashboardAssets } from './dashboard-assets.js';
import { runDashboardAction } from './dashboard-action.js';
import type { DashboardContext } from './dashboard-context.js';
import { csrfFieldOf, isSameOrigin, sameToken, setSecurityHeaders } from './dashboard-security.js';
import { DashboardSessions, type SessionSettings } from './dashboard-session.js';
import { html } from './html.js';
import { registerLoginRoutes } from './login-routes.js';
import { canAct, sendBarePage } from './page-layout.js';
import { DASHBOARD_PAGES } from './pages/index.js';

export interface DashboardDeps {
  admin: AdminContext;
  keyring: ApiKeyring;
  settings: SessionSettings;
}

/** Form bodies are small: filters, ids, a reason. */
const FORM_BODY_LIMIT = 64 * 1024;

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
  app.addHook('onRequest', (_request, reply, done) => {
    setSecurityHeaders(reply);
    done();
  });
  app.setErrorHandler(dashboardErrorHandler(deps.admin));
  const assets = registerDashboardAssets(app);
  const sessions = new DashboardSessions(deps.admin.db, deps.settings, deps.keyring);
  registerLoginRoutes(app, {
    sessions,
    keyring: deps.keyring,
    assets,
    settings: deps.settings,
    log: deps.admin.log,
  });
  const context: DashboardContext = {
    admin: deps.admin,
    layout: { assets, readPause: () => readPauseState(deps.admin.db) },
    sessionSettings: deps.settings,
  };
  await app.register((pages, _options, done) => {
    pages.decorateRequest('dashboardSession', null);
    pages.addHook('preHandler', async (request, reply) => requireSession(request, reply, sessions));
    pages.post('/admin/logout', async (request, reply) => {
      await sessions.end(request, reply);
      return reply.redirect('/admin/login', 303);
    });
    registerPauseRoutes(pages, context);
    for (const register of DASHBOARD_PAGES) register(pages, context);
    done();
  });
}

/**
 * Signed in, or sent to the login page (a GET comes back to where it was
 * going). A POST must carry the session's CSRF token and come from this
 * site; a read-only session may only log out.
 */
async function requireSession(
  request: FastifyRequest,
  reply: FastifyReply,
  sessions: DashboardSessions,
): Promise<FastifyReply | undefined> {
  const session = await sessions.current(request);
  if (!session) {
    if (request.method === 'GET' && request.headers['x-dashboard-fragment'] !== '1')
      return reply.redirect(`/admin/login?next=${encodeURIComponent(request.url)}`, 303);
    return sendBarePage(
      reply,
      401,
      'Signed out',
      html`<p>The session has ended. <a href="/admin/login">Log in</a> again.</p>`,
    );
  }
  request.dashboardSession = session;
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  if (!sameToken(csrfFieldOf(request), session.csrfToken) || !isSameOrigin(request))
    return sendBarePage(
      reply,
      403,
      'Refused',
      html`<p>
        The form did not carry this session's token (it may be from an old page or another site). Nothing was
        changed.
      </p>`,
    );
  if (!canAct(session) && request.url !== '/admin/logout')
    return sendBarePage(
      reply,
      403,
      'Read-only',
      html`<p>The key ${session.keyName} is read-only: it can look, not change. Nothing was changed.</p>`,
    );
  return undefined;
}

function registerPauseRoutes(app: FastifyInstance, context: DashboardContext): void {
  app.post<{ Body: { reason?: string; back?: string } }>('/admin/pause', async (request, reply) => {
    const reason = typeof request.body?.reason === 'string' ? request.body.reason.trim().slice(0, 500) : '';
    return runDashboardAction(request, reply, context, '/admin', (actor) =>
      pauseAction(context.admin, actor, reason ? { reason } : {}),
    );
  });
  app.post('/admin/resume', async (request, reply) =>
    runDashboardAction(request, reply, context, '/admin', (actor) => resumeAction(context.admin, actor)),
  );
}

/** /admin/… paths no route matched: an HTML page (the server's 404 handler asks, fastify allows one). */
export function sendDashboardNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  setSecurityHeaders(reply);
  return sendBarePage(reply, 404, 'Not found', html`<p>There is no page ${request.url.split('?')[0]}.</p>`);
}

function dashboardErrorHandler(admin: AdminContext) {
  const report = createErrorReporter(admin.log, 'dashboard');
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const classified = classifyRequestError(error);
    report(classified, error, request);
    const status = API_ERROR_STATUS[classified.code];
    if (classified.code === 'unavailable') void reply.header('Retry-After', '5');
    void sendBarePage(
      reply,
      status,
      status === 503 ? 'Unavailable' : status >= 500 ? 'Error' : 'Not accepted',
      html`<p>${classified.message}</p>`,
    );
  };
}
