/**
 * The dashboard's door, on a real server over SQLite: the login form (a
 * real Chromium signs in), the session cookie's attributes, login CSRF,
 * wrong keys, the rate limit on attempts, the open-redirect guard, logout,
 * expiry and idleness (the session row aged in the real database), the
 * CSRF token and same-origin check on every POST, the read-only role, the
 * security headers, and DASHBOARD=off.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { readPauseState } from '../../src/db/fleet-pause.js';
import {
  collectPageProblems,
  chromiumMissing,
  launchBrowser,
  logIn,
  screenshot,
  screenshotDir,
} from '../helpers/browser.js';
import { parseTrustedProxies } from '../../src/config-dashboard-options.js';
import { clientKey } from '../../src/dashboard/login-throttle.js';
import {
  ALICE_KEY,
  BOB_KEY,
  READER_KEY,
  startDashboardServer,
  type DashboardServer,
} from '../helpers/dashboard-server.js';

interface Form {
  cookies: Map<string, string>;
  fields: Record<string, string>;
}

function cookiesOf(response: Response, into = new Map<string, string>()): Map<string, string> {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    if (value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) into.delete(name);
    else into.set(name, value);
  }
  return into;
}

const cookieHeader = (cookies: Map<string, string>) =>
  [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');

function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g))
    fields[match[1]!] = match[2]!;
  return fields;
}

describe.skipIf(chromiumMissing())('the dashboard login and its defences', () => {
  let s: DashboardServer;
  let browser: Browser;
  const shots = screenshotDir('dashboard-login');

  beforeAll(async () => {
    s = await startDashboardServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  /** Where the requests below go: the test's server, unless a test points them at another process. */
  let base = '';
  const get = (path: string, cookies?: Map<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base || s.base}${path}`, {
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookieHeader(cookies) } : {}), ...headers },
    });
  const post = (
    path: string,
    fields: Record<string, string>,
    cookies: Map<string, string>,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${base || s.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookieHeader(cookies),
        ...headers,
      },
      body: new URLSearchParams(fields).toString(),
    });

  async function loginForm(headers: Record<string, string> = {}): Promise<Form> {
    const page = await get('/admin/login', undefined, headers);
    expect(page.status).toBe(200);
    return { cookies: cookiesOf(page), fields: hiddenFields(await page.text()) };
  }

  /** Logs in over HTTP; returns the session's cookies and its CSRF token (read off a page's logout form). */
  async function session(key: string, headers: Record<string, string> = {}) {
    const form = await loginForm(headers);
    const answer = await post('/admin/login', { ...form.fields, key }, form.cookies, headers);
    expect(answer.status, await answer.clone().text()).toBe(303);
    const cookies = cookiesOf(answer, form.cookies);
    const page = await get('/admin/workers', cookies);
    const csrf = hiddenFields(await page.text())._csrf!;
    return { cookies, csrf, setCookie: answer.headers.getSetCookie() };
  }

  it('sends a browser without a session to the login form, and back to where it was going', async () => {
    const answer = await get('/admin/items?status=failed');
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fitems%3Fstatus%3Dfailed');
    const page = await browser.newPage();
    const problems = collectPageProblems(page);
    await page.goto(`${s.base}/admin/login`);
    await screenshot(page, shots, 'login-1280');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, shots, 'login-360');
    await logIn(page, s.base, ALICE_KEY, '/admin/workers');
    expect(new URL(page.url()).pathname).toBe('/admin/workers');
    await expect(page.locator('header .who').textContent()).resolves.toContain('alice');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie on /admin, Secure behind HTTPS', async () => {
    const plain = await session(ALICE_KEY);
    const cookie = plain.setCookie.find((line) => line.startsWith('mw_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).not.toMatch(/Secure/i);
    const behindProxy = await session(ALICE_KEY, { 'x-forwarded-proto': 'https' });
    expect(behindProxy.setCookie.find((line) => line.startsWith('mw_session='))).toMatch(/; Secure/i);
  });

  it('refuses a wrong key with one message, and a login form it did not hand out', async () => {
    const form = await loginForm();
    const wrong = await post(
      '/admin/login',
      { ...form.fields, key: 'not-a-key-of-this-server' },
      form.cookies,
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That is not an admin or read-only key of this server.');
    expect(cookiesOf(wrong).has('mw_session')).toBe(false);
    const forged = await post('/admin/login', { _csrf: 'forged', key: ALICE_KEY }, form.cookies);
    expect(forged.status).toBe(403);
    expect(cookiesOf(forged).has('mw_session')).toBe(false);
    const otherSite = await post('/admin/login', { ...form.fields, key: ALICE_KEY }, form.cookies, {
      origin: 'https://evil.example',
    });
    expect(otherSite.status).toBe(403);
  });

  it('never redirects outside the dashboard after login', async () => {
    for (const next of [
      '//evil.example/admin',
      'https://evil.example',
      '/api/admin/stats',
      '/admin/../api',
    ]) {
      const form = await loginForm();
      const answer = await post('/admin/login', { ...form.fields, next, key: ALICE_KEY }, form.cookies);
      expect(answer.headers.get('location'), next).toBe('/admin');
    }
  });

  it('refuses POSTs without the session token, from another origin, and from a read-only key', async () => {
    const alice = await session(ALICE_KEY);
    expect(alice.csrf).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const none = await post('/admin/pause', { reason: 'no token' }, alice.cookies);
    expect(none.status).toBe(403);
    const wrong = await post('/admin/pause', { _csrf: `${alice.csrf}x` }, alice.cookies);
    expect(wrong.status).toBe(403);
    const crossSite = await post('/admin/pause', { _csrf: alice.csrf }, alice.cookies, {
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect((await readPauseState(s.t.db)).paused).toBe(false);

    const reader = await session(READER_KEY);
    const refused = await post('/admin/pause', { _csrf: reader.csrf }, reader.cookies);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('read-only');
    expect((await readPauseState(s.t.db)).paused).toBe(false);

    const paused = await post(
      '/admin/pause',
      { _csrf: alice.csrf, reason: 'checking the door' },
      alice.cookies,
    );
    expect(paused.status).toBe(303);
    expect(await readPauseState(s.t.db)).toMatchObject({ paused: true, pausedBy: 'alice' });
    expect((await post('/admin/resume', { _csrf: alice.csrf }, alice.cookies)).status).toBe(303);
    expect((await readPauseState(s.t.db)).paused).toBe(false);
  });

  it('ends a session at logout, at its expiry, and after sitting idle', async () => {
    const out = await session(ALICE_KEY);
    expect((await post('/admin/logout', { _csrf: out.csrf }, out.cookies)).status).toBe(303);
    expect((await get('/admin/workers', out.cookies)).status).toBe(303);

    const expired = await session(ALICE_KEY);
    await s.t.db('dashboard_sessions').update({ expires_at: Date.now() - 1 });
    expect((await get('/admin/workers', expired.cookies)).status).toBe(303);

    const idle = await session(ALICE_KEY);
    await s.t.db('dashboard_sessions').update({ last_seen_at: Date.now() - 31 * 60_000 });
    expect((await get('/admin/workers', idle.cookies)).status).toBe(303);
    // A live refresh of a page whose session ended is told so, not sent a login page to paste in.
    expect((await get('/admin/workers', idle.cookies, { 'x-dashboard-fragment': '1' })).status).toBe(401);
  });

  it('answers every page with a strict CSP, no framing and no caching', async () => {
    const alice = await session(ALICE_KEY);
    for (const path of ['/admin/login', '/admin/workers', '/admin/no-such-page']) {
      const answer = await get(path, alice.cookies);
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('lets a read-only key read the admin API and refuses it every admin action', async () => {
    const as = (method: string, path: string, key: string) =>
      fetch(`${s.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(method === 'GET' ? {} : { body: '{}' }),
      });
    for (const path of ['/api/admin/stats', '/api/admin/storage', '/api/admin/audit'])
      expect((await as('GET', path, READER_KEY)).status, path).toBe(200);
    for (const path of ['/api/admin/pause', '/api/admin/heal', '/api/admin/cleanup']) {
      const refused = await as('POST', path, READER_KEY);
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toMatchObject({
        error: 'forbidden',
        message: expect.stringContaining('reader'),
      });
    }
    expect((await as('GET', '/api/media?limit=1', READER_KEY)).status).toBe(403);
    expect((await readPauseState(s.t.db)).paused).toBe(false);
  });

  it('ends a session on every process once its key is removed or downgraded', async () => {
    const bob = await session(BOB_KEY);
    expect((await get('/admin/workers', bob.cookies)).status).toBe(200);
    // Two more processes of the fleet, sharing the database: one without bob's key, one with it read-only.
    const withoutBob = await startDashboardServer({
      shared: s,
      adminKeys: [{ name: 'alice', key: ALICE_KEY }],
    });
    const bobReadOnly = await startDashboardServer({
      shared: s,
      adminKeys: [{ name: 'alice', key: ALICE_KEY }],
      readOnlyKeys: [{ name: 'bob', key: BOB_KEY }],
    });
    try {
      base = bobReadOnly.base;
      expect((await get('/admin/workers', bob.cookies)).status).toBe(303);
      const again = await session(BOB_KEY);
      expect(await (await get('/admin/workers', again.cookies)).text()).toContain('read-only');
      base = withoutBob.base;
      expect((await get('/admin/workers', again.cookies)).status).toBe(303);
      base = '';
      // Ended for good: the rows are gone, so the first process does not take them back either.
      expect((await get('/admin/workers', bob.cookies)).status).toBe(303);
      expect((await get('/admin/workers', again.cookies)).status).toBe(303);
    } finally {
      base = '';
      await withoutBob.close();
      await bobReadOnly.close();
    }
  });

  it('does not count a live refresh as a page view for the idle timeout', async () => {
    const alice = await session(ALICE_KEY);
    const lastSeen = () =>
      s.t.db('dashboard_sessions').max({ at: 'last_seen_at' }).first() as Promise<{ at: number | string }>;
    const old = Date.now() - 20 * 60_000;
    await s.t.db('dashboard_sessions').update({ last_seen_at: old });
    expect((await get('/admin/workers', alice.cookies, { 'x-dashboard-fragment': '1' })).status).toBe(200);
    expect(Number((await lastSeen()).at)).toBe(old);
    expect((await get('/admin/workers', alice.cookies)).status).toBe(200);
    expect(Number((await lastSeen()).at)).toBeGreaterThan(old);
  });

  it('counts wrong keys per client behind a trusted proxy, per /64 for IPv6', async () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:ffff:1:2:3'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(() => parseTrustedProxies('127.0.0.1,10.0.0.0/8,::1')).not.toThrow();
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/not an IP address or CIDR range/);
    expect(() => loadConfig({ TRUST_PROXY: 'proxy.local' })).toThrow(
      /TRUST_PROXY "proxy.local" is not an IP/,
    );
    const proxied = await startDashboardServer({ shared: s, trustProxy: ['127.0.0.1'] });
    try {
      base = proxied.base;
      const attempt = async (client: string, key: string) => {
        const form = await loginForm({ 'x-forwarded-for': client });
        return (
          await post('/admin/login', { ...form.fields, key }, form.cookies, { 'x-forwarded-for': client })
        ).status;
      };
      const attacker: number[] = [];
      for (let i = 0; i < 11; i++) attacker.push(await attempt('203.0.113.5', `wrong-key-${i}-0123456789`));
      expect(attacker.at(-1)).toBe(429);
      // Another client behind the same proxy is not locked out by it.
      expect(await attempt('203.0.113.6', ALICE_KEY)).toBe(303);
    } finally {
      base = '';
      await proxied.close();
    }
  });

  // Last of the logins: it locks this address out for a minute.
  it('answers 429 to an address after ten wrong keys in a minute, even with the right key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const form = await loginForm();
      statuses.push(
        (await post('/admin/login', { ...form.fields, key: `wrong-key-${i}-0123456789` }, form.cookies))
          .status,
      );
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
    const form = await loginForm();
    const locked = await post('/admin/login', { ...form.fields, key: ALICE_KEY }, form.cookies);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(cookiesOf(locked).has('mw_session')).toBe(false);
  });

  it('is not served with DASHBOARD=off', () => {
    expect(loadConfig({ DASHBOARD: 'off' }).dashboard).toBe(false);
    expect(() => loadConfig({ DASHBOARD: 'maybe' })).toThrow(/DASHBOARD must be on or off/);
  });
});
