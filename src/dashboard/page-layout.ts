/**
 * Every dashboard page's frame: the navigation, who is signed in, the
 * fleet's pause banner, the message an action left, and the page's content
 * in <main>. With `X-Dashboard-Fragment: 1` (the live refresh of
 * dashboard.js) only the content of <main> is sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardSession } from '../db/dashboard-sessions.js';
import type { PauseState } from '../db/fleet-pause.js';
import { VERSION } from '../version.js';
import type { DashboardAssets } from './dashboard-assets.js';
import { setSecurityHeaders } from './dashboard-security.js';
import { takeFlash } from './flash.js';
import { formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

export const NAV = [
  { path: '/admin', label: 'Overview' },
  { path: '/admin/items', label: 'Items' },
  { path: '/admin/failures', label: 'Failures' },
  { path: '/admin/workers', label: 'Workers' },
  { path: '/admin/storage', label: 'Storage' },
  { path: '/admin/audit', label: 'Audit' },
] as const;

export type NavPath = (typeof NAV)[number]['path'];

export interface Page {
  title: string;
  /** The navigation entry to mark as current. */
  nav?: NavPath;
  body: SafeHtml;
  /** Seconds between live refreshes of <main> (dashboard.js); none: the page does not refresh. */
  refreshSeconds?: number;
}

export interface LayoutParts {
  assets: DashboardAssets;
  readPause: () => Promise<PauseState>;
}

/** The hidden field every state-changing form carries. */
export function csrfField(session: DashboardSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
}

/** True when this session may change things (an admin key; a read-only key only looks). */
export function canAct(session: DashboardSession): boolean {
  return session.role === 'admin';
}

function navigation(current: NavPath | undefined): SafeHtml {
  const links = NAV.map(
    (entry) =>
      html`<li>
        <a href="${entry.path}" ${entry.path === current ? html` aria-current="page"` : ''}>${entry.label}</a>
      </li>`,
  );
  return html`<nav aria-label="Dashboard">
    <ul>
      ${links}
    </ul>
  </nav>`;
}

function pauseBanner(pause: PauseState, session: DashboardSession, nav: NavPath | undefined): SafeHtml {
  if (!pause.paused) return html``;
  // The overview has its own pause section with the Resume button: one is enough there.
  const resume =
    canAct(session) && nav !== '/admin'
      ? html`<form method="post" action="/admin/resume" class="inline">
          ${csrfField(session)}<button type="submit">Resume claiming</button>
        </form>`
      : '';
  return html`<div class="banner paused" role="status">
    <strong>Claiming is paused</strong> by ${pause.pausedBy ?? 'unknown'} since
    ${formatTime(pause.pausedAt)}${pause.reason ? html`: ${pause.reason}` : ''}. In-flight items finish;
    nothing new is claimed. ${resume}
  </div>`;
}

export async function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  parts: LayoutParts,
  page: Page,
): Promise<FastifyReply> {
  setSecurityHeaders(reply);
  void reply.header('Vary', 'X-Dashboard-Fragment').type('text/html; charset=utf-8');
  const session = request.dashboardSession!;
  const refresh = page.refreshSeconds ? html` data-refresh-seconds="${page.refreshSeconds}"` : '';
  if (request.headers['x-dashboard-fragment'] === '1') return reply.send(page.body.value);
  const flash = takeFlash(request, reply);
  const pause = await parts.readPause();
  const document = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>${page.title} · media-worker</title>
        <link rel="stylesheet" href="${parts.assets.urlOf('dashboard.css')}" />
        <script src="${parts.assets.urlOf('dashboard.js')}" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="top">
          <a class="brand" href="/admin">media-worker</a>
          ${navigation(page.nav)}
          <div class="who">
            ${session.keyName} <span class="role">${session.role === 'admin' ? 'admin' : 'read-only'}</span>
            <form method="post" action="/admin/logout" class="inline">
              ${csrfField(session)}<button type="submit">Log out</button>
            </form>
          </div>
        </header>
        ${pauseBanner(pause, session, page.nav)}
        ${flash ? html`<div class="flash ${flash.kind}" role="status">${flash.text}</div>` : ''}
        <main id="main" ${refresh}>${page.body}</main>
        <footer>media-worker ${VERSION}</footer>
      </body>
    </html>`;
  return reply.send(document.value);
}

/** A page for an answer that is not a page of the dashboard (404, 403): still escaped, still framed. */
export function sendBarePage(
  reply: FastifyReply,
  status: number,
  title: string,
  body: SafeHtml,
): FastifyReply {
  setSecurityHeaders(reply);
  const document = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>${title} · media-worker</title>
      </head>
      <body>
        <main>
          <h1>${title}</h1>
          ${body}
          <p><a href="/admin">Back to the dashboard</a></p>
        </main>
      </body>
    </html>`;
  return reply.code(status).type('text/html; charset=utf-8').send(document.value);
}
