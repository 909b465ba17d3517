/**
 * The dashboard's rows of the option table (issue 17): whether /admin is
 * served, the read-only keys that may look but not change, and how long a
 * login lasts.
 */
import net from 'node:net';
import { positiveInt } from './config-parsers.js';
import { option, optional } from './config-row.js';
import { parseAdminKeys } from './http/api-keys.js';

const COOKIE_SECURE_MODES = ['auto', 'always'] as const;
export type CookieSecureMode = (typeof COOKIE_SECURE_MODES)[number];

function onOff(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`must be on or off (got "${raw}")`);
}

function cookieSecureMode(raw: string): CookieSecureMode {
  const value = raw.trim().toLowerCase();
  if ((COOKIE_SECURE_MODES as readonly string[]).includes(value)) return value as CookieSecureMode;
  throw new Error(`must be ${COOKIE_SECURE_MODES.join(' or ')} (got "${raw}")`);
}

/** TRUST_PROXY: the proxies whose X-Forwarded-For / -Proto are believed (addresses or CIDR ranges). */
export function parseTrustedProxies(raw: string): readonly string[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('must list at least one address or CIDR range');
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = net.isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined)
      throw new Error(`"${entry}" is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)`);
  }
  return entries;
}

export const DASHBOARD_OPTIONS = [
  optional({
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    default: undefined,
    parse: parseTrustedProxies,
    doc: "the reverse proxies in front (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed: the client address for the login limit and the API rate limit; unset: the connection's own address",
  }),
  option({
    key: 'dashboard',
    env: 'DASHBOARD',
    default: 'on',
    parse: onOff,
    doc: 'the operator dashboard at /admin (on or off); logging in needs an admin or read-only key',
  }),
  optional({
    key: 'readOnlyApiKeys',
    env: 'READONLY_API_KEYS',
    default: undefined,
    parse: parseAdminKeys,
    doc: 'named read-only keys (name:key,…; keys ≥ 16 characters): the dashboard and the admin figures, no actions',
  }),
  option({
    key: 'dashboardSessionHours',
    env: 'DASHBOARD_SESSION_HOURS',
    default: '8',
    parse: positiveInt,
    doc: 'a dashboard login lasts at most this many hours',
  }),
  option({
    key: 'dashboardIdleMinutes',
    env: 'DASHBOARD_IDLE_MINUTES',
    default: '30',
    parse: positiveInt,
    doc: 'a dashboard login without a page view for this many minutes ends',
  }),
  option({
    key: 'dashboardCookieSecure',
    env: 'DASHBOARD_COOKIE_SECURE',
    default: 'auto',
    parse: cookieSecureMode,
    doc: 'auto: the session cookie is Secure when the request came over HTTPS (TLS, or X-Forwarded-Proto: https from the proxy in front); always: always Secure',
  }),
];
