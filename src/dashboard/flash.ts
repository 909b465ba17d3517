/**
 * The one-line message a page shows after an action redirected to it
 * ("requeued 12 items"): a short-lived cookie, read and cleared by the next
 * page, rendered as escaped text like everything else. Post/redirect/get,
 * so reloading the page never repeats the action.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { COOKIE_PATH } from './dashboard-session.js';

const FLASH_COOKIE = 'mw_flash';
const MAX_FLASH_CHARS = 500;

export type FlashKind = 'ok' | 'refused' | 'failed';

export interface Flash {
  kind: FlashKind;
  text: string;
}

export function setFlash(reply: FastifyReply, flash: Flash, secure: boolean): void {
  const value = JSON.stringify({ kind: flash.kind, text: flash.text.slice(0, MAX_FLASH_CHARS) });
  void reply.setCookie(FLASH_COOKIE, value, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict',
    secure,
    maxAge: 60,
  });
}

export function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | undefined {
  const raw = request.cookies[FLASH_COOKIE];
  if (raw === undefined) return undefined;
  void reply.clearCookie(FLASH_COOKIE, { path: COOKIE_PATH });
  try {
    const parsed = JSON.parse(raw) as Partial<Flash>;
    if (typeof parsed.text !== 'string') return undefined;
    const kind: FlashKind = parsed.kind === 'refused' || parsed.kind === 'failed' ? parsed.kind : 'ok';
    return { kind, text: parsed.text.slice(0, MAX_FLASH_CHARS) };
  } catch {
    return undefined;
  }
}
