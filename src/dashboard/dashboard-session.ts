/**
 * Who is looking at the dashboard. Logging in with a key makes a session
 * row (db/dashboard-sessions.ts) and an `HttpOnly; SameSite=Strict` cookie
 * holding its random id (Secure over HTTPS); every page looks the session up
 * by the id's sha256. A session ends at logout, after DASHBOARD_SESSION_HOURS,
 * or after DASHBOARD_IDLE_MINUTES without a page view.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSecureMode } from '../config-dashboard-options.js';
import type { Config } from '../config-type.js';
import type { Db } from '../db/connect.js';
import {
  deleteSession,
  findSession,
  insertSession,
  sweepSessions,
  touchSession,
  type DashboardSession,
  type SessionRole,
} from '../db/dashboard-sessions.js';
import { ApiKeyring, type Principal } from '../http/api-keys.js';

export const SESSION_COOKIE = 'mw_session';
export const COOKIE_PATH = '/admin';

export interface SessionSettings {
  sessionHours: number;
  idleMinutes: number;
  cookieSecure: CookieSecureMode;
}

/** DASHBOARD_SESSION_HOURS, DASHBOARD_IDLE_MINUTES, DASHBOARD_COOKIE_SECURE. */
export function dashboardSettingsOf(
  config: Pick<Config, 'dashboardSessionHours' | 'dashboardIdleMinutes' | 'dashboardCookieSecure'>,
): SessionSettings {
  return {
    sessionHours: config.dashboardSessionHours,
    idleMinutes: config.dashboardIdleMinutes,
    cookieSecure: config.dashboardCookieSecure,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    dashboardSession: DashboardSession | null;
  }
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export function roleOf(principal: Principal): SessionRole | undefined {
  if (principal.scopes.includes('admin')) return 'admin';
  if (principal.scopes.includes('read')) return 'read';
  return undefined;
}

/** Secure when asked always, or when this request came over HTTPS (directly or via the proxy in front). */
export function isSecureRequest(request: FastifyRequest, mode: CookieSecureMode): boolean {
  if (mode === 'always') return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = Array.isArray(forwarded) ? forwarded[0] : forwarded;
  return request.protocol === 'https' || proto?.split(',')[0]?.trim().toLowerCase() === 'https';
}

export function cookieOptions(request: FastifyRequest, settings: SessionSettings, maxAgeSeconds?: number) {
  return {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: isSecureRequest(request, settings.cookieSecure),
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

export class DashboardSessions {
  constructor(
    private readonly db: Db,
    private readonly settings: SessionSettings,
    private readonly keyring: ApiKeyring,
  ) {}

  private get idleMs(): number {
    return this.settings.idleMinutes * 60_000;
  }

  /** A new session for a principal that holds the admin or read scope; sets the cookie. */
  async start(
    request: FastifyRequest,
    reply: FastifyReply,
    login: { principal: Principal; role: SessionRole; key: string },
  ) {
    const now = Date.now();
    const id = randomBytes(32).toString('base64url');
    const maxAgeMs = this.settings.sessionHours * 3_600_000;
    await sweepSessions(this.db, now, this.idleMs);
    await insertSession(this.db, {
      idHash: hashOf(id),
      keyName: login.principal.name,
      role: login.role,
      keyDigest: ApiKeyring.digestOf(login.key),
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + maxAgeMs,
    });
    void reply.setCookie(SESSION_COOKIE, id, cookieOptions(request, this.settings, maxAgeMs / 1000));
  }

  /**
   * The request's live session, or null. Its key must still be configured
   * with the same role (a removed or downgraded key ends the session at once,
   * on every process). A page view resets the idle timer; a live refresh
   * (X-Dashboard-Fragment) does not, so an unattended tab still times out.
   */
  async current(request: FastifyRequest): Promise<DashboardSession | null> {
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return null;
    const now = Date.now();
    const session = await findSession(this.db, hashOf(id), now, this.idleMs);
    if (!session) return null;
    const principal = this.keyring.principalOfDigest(session.keyDigest);
    if (!principal || principal.name !== session.keyName || roleOf(principal) !== session.role) {
      await deleteSession(this.db, session.idHash);
      return null;
    }
    if (request.headers['x-dashboard-fragment'] !== '1') await touchSession(this.db, session, now);
    return session;
  }

  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = request.cookies[SESSION_COOKIE];
    if (id) await deleteSession(this.db, hashOf(id));
    void reply.clearCookie(SESSION_COOKIE, cookieOptions(request, this.settings));
  }
}
