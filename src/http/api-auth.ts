/**
 * The key check every /api route runs first (an onRequest hook, so nothing
 * of the body is read for a caller without a key): 401 without a valid key,
 * 403 for a key without the route's scope. The caller is left on
 * `request.principal` for the route and the audit.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { sendApiError } from './api-errors.js';
import type { ApiKeyring, Principal, Scope } from './api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const NOBODY_HOLDS: Record<Scope, string> = {
  media: 'this server has no MEDIA_API_KEY (or admin key) configured: the media API answers nobody',
  admin: 'this server has no ADMIN_API_KEYS configured: the admin API answers nobody',
  read: 'this server has no ADMIN_API_KEYS or READONLY_API_KEYS configured: the admin API answers nobody',
};

export function requireScope(keyring: ApiKeyring, scope: Scope): onRequestAsyncHookHandler {
  return async function checkKey(request: FastifyRequest, reply: FastifyReply) {
    const principal = keyring.identify(request.headers.authorization);
    if (!principal) {
      const message = keyring.hasScope(scope)
        ? `a valid Authorization: Bearer <key> header with the ${scope} scope is required`
        : NOBODY_HOLDS[scope];
      return sendApiError(reply, 'unauthorized', message);
    }
    if (!principal.scopes.includes(scope))
      return sendApiError(reply, 'forbidden', `the key "${principal.name}" does not have the ${scope} scope`);
    request.principal = principal;
  };
}
