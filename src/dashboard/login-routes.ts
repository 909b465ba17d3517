/**
 * Logging in and out. The login form takes an admin or read-only key; a
 * wrong key answers the same page with one message whichever way it was
 * wrong, and failed attempts are limited per address (login-throttle.ts). The form carries a
 * login CSRF token (a random cookie it must match), so another site cannot
 * sign a browser in under the attacker's key.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import type { ApiKeyring } from '../http/api-keys.js';
import type { DashboardAssets } from './dashboard-assets.js';
import { csrfFieldOf, isSameOrigin, sameToken, setSecurityHeaders } from './dashboard-security.js';
import { COOKIE_PATH, roleOf, type DashboardSessions, type SessionSettings } from './dashboard-session.js';
import { isSecureRequest } from './dashboard-session.js';
import { html } from './html.js';
import { LoginThrottle } from './login-throttle.js';

const LOGIN_CSRF_COOKIE = 'mw_login';

export interface LoginDeps {
  sessions: DashboardSessions;
  keyring: ApiKeyring;
  assets: DashboardAssets;
  settings: SessionSettings;
  log: Logger;
}

/** Only a path inside the dashboard is a place to go back to after login (no open redirect). */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000 || /[\\\s]/.test(next)) return '/admin';
  // Resolved as the browser will resolve it: "//host", "/admin/../api" and "https:…" all end up elsewhere.
  const base = 'http://dashboard.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/admin';
  }
  const inside = url.origin === base && (url.pathname === '/admin' || url.pathname.startsWith('/admin/'));
  return inside && next.startsWith('/') && !next.startsWith('//') ? `${url.pathname}${url.search}` : '/admin';
}

function sendLoginPage(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: LoginDeps,
  options: { status?: number; problem?: string; next: string },
): FastifyReply {
  const token = randomBytes(24).toString('base64url');
  void reply.setCookie(LOGIN_CSRF_COOKIE, token, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict',
    secure: isSecureRequest(request, deps.settings.cookieSecure),
    maxAge: 3600,
  });
  setSecurityHeaders(reply);
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>Log in · media-worker</title>
        <link rel="stylesheet" href="${deps.assets.urlOf('dashboard.css')}" />
      </head>
      <body class="login">
        <main id="main">
          <h1>media-worker</h1>
          <form method="post" action="/admin/login" class="card login-form">
            <input type="hidden" name="_csrf" value="${token}" />
            <input type="hidden" name="next" value="${options.next}" />
            <label for="key">Admin or read-only key</label>
            <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
            ${options.problem ? html`<p class="problem" role="alert">${options.problem}</p>` : ''}
            <button type="submit">Log in</button>
          </form>
          <p class="hint">
            Use a key from ADMIN_API_KEYS, ADMIN_API_KEY or READONLY_API_KEYS. The session lasts
            ${deps.settings.sessionHours} h, or ${deps.settings.idleMinutes} min without a page view.
          </p>
        </main>
      </body>
    </html>`;
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(page.value);
}

export function registerLoginRoutes(app: FastifyInstance, deps: LoginDeps): void {
  const throttle = new LoginThrottle();
  app.get<{ Querystring: { next?: string } }>(
    '/admin/login',
    { schema: { hide: true } },
    async (request, reply) => sendLoginPage(request, reply, deps, { next: safeNext(request.query.next) }),
  );
  app.post<{ Body: Record<string, unknown> }>(
    '/admin/login',
    { schema: { hide: true } },
    async (request, reply) => {
      const next = safeNext(request.body?.next);
      const waitMs = throttle.waitMs(request.ip);
      if (waitMs > 0)
        return sendLoginPage(request, reply.header('Retry-After', String(Math.ceil(waitMs / 1000))), deps, {
          status: 429,
          problem: `Too many wrong keys from this address; try again in ${Math.ceil(waitMs / 1000)} s.`,
          next,
        });
      const expected = request.cookies[LOGIN_CSRF_COOKIE];
      if (!expected || !sameToken(csrfFieldOf(request), expected) || !isSameOrigin(request))
        return sendLoginPage(request, reply, deps, {
          status: 403,
          problem: 'The form had expired or came from another page; log in again.',
          next,
        });
      const key = typeof request.body?.key === 'string' ? request.body.key : '';
      const principal = key ? deps.keyring.identifyKey(key) : undefined;
      const role = principal ? roleOf(principal) : undefined;
      if (!principal || !role) {
        throttle.recordFailure(request.ip);
        deps.log.warn(
          { address: request.ip },
          'dashboard: a login with a key that is not an admin or read-only key',
        );
        return sendLoginPage(request, reply, deps, {
          status: 401,
          problem: 'That is not an admin or read-only key of this server.',
          next,
        });
      }
      await deps.sessions.start(request, reply, { principal, role, key });
      void reply.clearCookie(LOGIN_CSRF_COOKIE, { path: COOKIE_PATH });
      deps.log.info({ actor: principal.name, role }, `dashboard: ${principal.name} logged in`);
      return reply.redirect(next, 303);
    },
  );
}
