/**
 * The dashboard's defences, in one place: the response headers of every
 * /admin answer (a strict Content-Security-Policy without 'unsafe-inline',
 * no framing, no sniffing, no caching), and the CSRF check every
 * state-changing request passes: the session's token in the form's `_csrf`
 * field (compared in constant time) and, when the browser sends one, an
 * Origin of this very host.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function setSecurityHeaders(reply: FastifyReply): void {
  void reply.headers({
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function sameToken(given: unknown, expected: string): boolean {
  return typeof given === 'string' && timingSafeEqual(digest(given), digest(expected));
}

/** False when the browser says the request comes from another site (Origin, else Referer). */
export function isSameOrigin(request: FastifyRequest): boolean {
  const host = request.headers.host;
  const source = request.headers.origin ?? request.headers.referer;
  if (source === undefined) return true; // Not sent by every client; the token still has to match.
  if (source === 'null' || host === undefined) return false;
  try {
    return new URL(source).host === host;
  } catch {
    return false;
  }
}

/** The form's `_csrf` field, from a urlencoded body. */
export function csrfFieldOf(request: FastifyRequest): unknown {
  const body = request.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? body._csrf : undefined;
}
