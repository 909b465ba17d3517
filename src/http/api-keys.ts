/**
 * Who may call the HTTP API: MEDIA_API_KEY (the platform: scope `media`), the
 * named admin keys of ADMIN_API_KEYS / ADMIN_API_KEY (scopes `admin`, `read`
 * and `media`: an operator may also look at what the platform sees), and the
 * named read-only keys of READONLY_API_KEYS (scope `read`: the admin figures
 * and the dashboard, without changing anything). A request
 * is identified by comparing its Bearer token with every key in constant
 * time: both sides are hashed first, so neither lengths nor which key
 * matched leak through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['media', 'admin', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

export interface NamedKey {
  name: string;
  key: string;
}

/** The caller a valid key identifies; its name is what the audit records. */
export interface Principal {
  name: string;
  scopes: readonly Scope[];
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
/** The name MEDIA_API_KEY's caller has in the audit, in idempotency keys and in the rate limit. */
const PLATFORM = 'platform';
const MIN_KEY_LENGTH = 16;

/** Parses ADMIN_API_KEYS: `name:key,name:key`; names unique, keys at least 16 characters. */
export function parseAdminKeys(raw: string): NamedKey[] {
  const keys: NamedKey[] = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    const colon = entry.indexOf(':');
    if (colon <= 0)
      throw new Error(`must be name:key pairs separated by commas (got an entry without a name)`);
    const name = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (!KEY_NAME.test(name))
      throw new Error(`key name "${name}" must be 1–32 letters, digits, "_", "." or "-"`);
    if (name === PLATFORM)
      throw new Error(`key name "${PLATFORM}" is MEDIA_API_KEY's: the audit could not tell the two apart`);
    keys.push({ name, key: checkedKey(key, `the key named "${name}"`) });
  }
  const names = keys.map((k) => k.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new Error(`names the key "${repeated}" twice`);
  return keys;
}

/** Parses ADMIN_API_KEY: one key, named `admin` in the audit. */
export function parseAdminKey(raw: string): NamedKey[] {
  return [{ name: 'admin', key: checkedKey(raw.trim(), 'the key') }];
}

function checkedKey(key: string, what: string): string {
  if (key.length < MIN_KEY_LENGTH)
    throw new Error(`${what} must be at least ${MIN_KEY_LENGTH} characters (got ${key.length})`);
  if (/\s/.test(key)) throw new Error(`${what} must not contain spaces`);
  return key;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

interface Entry {
  principal: Principal;
  digest: Buffer;
}

export class ApiKeyring {
  private readonly entries: readonly Entry[];

  constructor(
    mediaKey: string | undefined,
    adminKeys: readonly NamedKey[],
    readOnlyKeys: readonly NamedKey[] = [],
  ) {
    const entries: Entry[] = [
      ...adminKeys.map(({ name, key }) => ({
        principal: { name, scopes: ['admin', 'read', 'media'] as const },
        digest: digest(key),
      })),
      ...readOnlyKeys.map(({ name, key }) => ({
        principal: { name, scopes: ['read'] as const },
        digest: digest(key),
      })),
    ];
    if (mediaKey !== undefined)
      entries.push({ principal: { name: PLATFORM, scopes: ['media'] }, digest: digest(mediaKey) });
    this.entries = entries;
  }

  /** True when some key grants the scope (a route whose scope nobody holds answers 401 to everyone). */
  hasScope(scope: Scope): boolean {
    return this.entries.some((entry) => entry.principal.scopes.includes(scope));
  }

  /** The caller an `Authorization: Bearer <key>` header names, or undefined. Compares with every key. */
  identify(header: string | undefined): Principal | undefined {
    if (!header?.startsWith('Bearer ')) return undefined;
    return this.identifyKey(header.slice('Bearer '.length));
  }

  /** The sha256 (hex) a dashboard session keeps of the key it logged in with. */
  static digestOf(key: string): string {
    return digest(key).toString('hex');
  }

  /**
   * The caller whose key has this digest (a dashboard session's), or undefined
   * once that key is no longer configured. The digest comes from our own
   * session row, not from the request, so a plain comparison is fine.
   */
  principalOfDigest(hex: string): Principal | undefined {
    return this.entries.find((entry) => entry.digest.toString('hex') === hex)?.principal;
  }

  /** The caller a bare key (the dashboard's login form) names, or undefined. Compares with every key. */
  identifyKey(key: string): Principal | undefined {
    const given = digest(key);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(given, entry.digest) && !found) found = entry.principal;
    }
    return found;
  }
}
