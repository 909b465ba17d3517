/**
 * Failed logins per address: after LOGIN_FAILURES_PER_MINUTE wrong keys in
 * a minute, an address is answered 429 until its minute is over. Only
 * failures count, so a person signing in and out is never locked out; a
 * 16-character key cannot be guessed at 10 tries a minute. An IPv6 client
 * is counted by its /64 (one subscriber's whole prefix), so rotating through
 * its addresses gains nothing. Behind a proxy, the address is the client's
 * only with TRUST_PROXY set (else every client shares the proxy's). Kept in
 * memory, per process: bounded, so a flood of addresses cannot grow it for ever.
 */
import net from 'node:net';
export const LOGIN_FAILURES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

/** The unit a client is counted by: its IPv4 address, or the /64 of its IPv6 address. */
export function clientKey(address: string): string {
  if (net.isIPv4(address)) return address;
  if (!net.isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = address.toLowerCase().split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const groups =
    tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  return `${groups
    .slice(0, 4)
    .map((g) => g.padStart(4, '0'))
    .join(':')}::/64`;
}

export class LoginThrottle {
  private readonly windows = new Map<string, Window>();

  /** Milliseconds until this address may try again, or 0 when it may now. */
  waitMs(address: string, now = Date.now()): number {
    const window = this.windows.get(clientKey(address));
    if (!window || now - window.startedAt >= WINDOW_MS) return 0;
    return window.failures >= LOGIN_FAILURES_PER_MINUTE ? window.startedAt + WINDOW_MS - now : 0;
  }

  recordFailure(address: string, now = Date.now()): void {
    const key = clientKey(address);
    const window = this.windows.get(key);
    if (window && now - window.startedAt < WINDOW_MS) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.forgetOld(now);
    this.windows.set(key, { startedAt: now, failures: 1 });
  }

  private forgetOld(now: number): void {
    for (const [address, window] of this.windows)
      if (now - window.startedAt >= WINDOW_MS) this.windows.delete(address);
    // Still full (a flood within one minute): the oldest entry goes first.
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
  }
}
