/**
 * The storage page's cleanup: a dry run (POST /admin/storage/cleanup/dry-run,
 * audited like the API's, so a POST) shows what would be removed, with the
 * button that runs it for real; POST /admin/storage/cleanup without that
 * confirmation shows the dry run too, so the count comes first with or
 * without JavaScript. Both call cleanupAction with the flags as POST
 * /api/admin/cleanup passes them (neither ticked: both).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recordRefusal } from '../../admin/audited.js';
import { cleanupAction, type CleanupRequest } from '../../admin/cleanup-action.js';
import type { CleanupReport } from '../../cleanup/run-cleanup.js';
import { TransientError, UsageError } from '../../errors.js';
import type { DashboardSession } from '../../db/dashboard-sessions.js';
import { actorOfSession, runDashboardAction } from '../dashboard-action.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatCount } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, sendPage } from '../page-layout.js';

type CleanupBody = { expired?: string; orphans?: string; confirm?: string };

/** Ids and paths listed on the dry-run page; the rest are counted. */
const LISTED = 100;

function requestOf(body: CleanupBody | undefined, dryRun: boolean): CleanupRequest {
  const expired = body?.expired === 'on';
  const orphans = body?.orphans === 'on';
  const none = !expired && !orphans;
  return { expired: none || expired, orphans: none || orphans, testData: false, dryRun };
}

function flagFields(request: CleanupRequest): SafeHtml {
  return html`${request.expired ? html`<input type="hidden" name="expired" value="on" />` : ''}
  ${request.orphans ? html`<input type="hidden" name="orphans" value="on" />` : ''}`;
}

export function cleanupForm(session: DashboardSession): SafeHtml {
  return html`<form method="post" action="/admin/storage/cleanup/dry-run" class="cleanup-form">
    ${csrfField(session)}
    <div>
      <input type="checkbox" id="cleanup-expired" name="expired" value="on" checked />
      <label for="cleanup-expired" class="inline-label">Expired items and originals</label>
    </div>
    <div>
      <input type="checkbox" id="cleanup-orphans" name="orphans" value="on" checked />
      <label for="cleanup-orphans" class="inline-label">Orphan files and vanished files</label>
    </div>
    <div class="actions"><button type="submit">Dry run</button></div>
  </form>`;
}

/** What a run would touch, in the order summarise() names them. */
function removals(report: CleanupReport): Array<[string, string, number]> {
  return [
    ['expired items', 'expiredItems', report.expiredItems.length],
    ['expired originals', 'expiredOriginals', report.expiredOriginals.length],
    ['orphan files', 'orphanFiles', report.orphanFiles.length],
    ['vanished files: items re-queued', 'vanishedRequeued', report.vanishedRequeued.length],
    ['vanished files: items marked failed', 'vanishedMarkedFailed', report.vanishedMarkedFailed.length],
  ];
}

function listed(report: CleanupReport): SafeHtml {
  const items = (ids: number[]) =>
    ids.slice(0, LISTED).map((id) => html`<li><a href="/admin/items/${id}">item ${id}</a></li>`);
  const lists = [
    ['Expired items', items(report.expiredItems)],
    ['Items whose original expires', items(report.expiredOriginals)],
    ['Orphan files', report.orphanFiles.slice(0, LISTED).map((file) => html`<li><code>${file}</code></li>`)],
    ['Items whose files vanished (re-queued)', items(report.vanishedRequeued)],
    ['Items whose files vanished (marked failed)', items(report.vanishedMarkedFailed)],
  ] as const;
  return html`${lists
    .filter(([, entries]) => entries.length > 0)
    .map(
      ([title, entries]) =>
        html`<h3>${title}</h3>
          <ul class="cleanup-list">
            ${entries}
          </ul>`,
    )}`;
}

/** Everything a run would remove or fix: the number the dry run's button confirms. */
function totalOf(report: CleanupReport): number {
  return removals(report).reduce((sum, [, , n]) => sum + n, 0);
}

/** The audit's parameters, as cleanupAction writes them. */
function parametersOf(request: CleanupRequest): Record<string, unknown> {
  return {
    expired: request.expired,
    orphans: request.orphans,
    test_data: request.testData,
    dry_run: request.dryRun,
  };
}

function dryRunBody(report: CleanupReport, request: CleanupRequest, session: DashboardSession): SafeHtml {
  const rows = removals(report);
  const total = totalOf(report);
  const confirm =
    total === 0
      ? html`<p>Nothing to remove. <a href="/admin/storage">Back to storage</a></p>`
      : html`<form
          method="post"
          action="/admin/storage/cleanup"
          class="actions"
          data-confirm="Run the cleanup now? The dry run found ${total} thing(s) to remove or fix."
        >
          ${csrfField(session)} ${flagFields(request)}
          <input type="hidden" name="confirm" value="${total}" />
          <button type="submit" class="danger">Run the cleanup (${formatCount(total)} found)</button>
          <a class="button secondary" href="/admin/storage">Cancel</a>
        </form>`;
  return html`<h1>Cleanup: dry run</h1>
    <p>Nothing was changed. A run now would find (it looks again when it runs):</p>
    <div class="table-wrap">
      <table class="cleanup-counts">
        <tbody>
          ${rows.map(
            ([label, key, n]) =>
              html`<tr>
                <th scope="row">${label}</th>
                <td class="num" data-figure="${key}">${formatCount(n)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${confirm} ${listed(report)}`;
}

/** The storage check refusing (cleanupAction audits it as failed): the page says why, with the API's status. */
function storeProblem(error: unknown): { status: number; message: string } {
  if (error instanceof TransientError) return { status: 503, message: error.message };
  if (error instanceof UsageError) return { status: 500, message: error.message };
  throw error;
}

async function showDryRun(
  request: FastifyRequest<{ Body: CleanupBody }>,
  reply: FastifyReply,
  context: DashboardContext,
): Promise<FastifyReply> {
  const session = request.dashboardSession!;
  const cleanup = requestOf(request.body, true);
  const page = { title: 'Cleanup dry run', nav: '/admin/storage' as const };
  try {
    const done = await cleanupAction(context.admin, actorOfSession(request), cleanup);
    return sendPage(request, reply, context.layout, {
      ...page,
      body: dryRunBody(done.result, cleanup, session),
    });
  } catch (error) {
    const problem = storeProblem(error);
    void reply.code(problem.status);
    const body = html`<h1>Cleanup: dry run</h1>
      <p class="problem">The store did not pass the check, so nothing was looked at: ${problem.message}</p>
      <p><a href="/admin/storage">Back to storage</a></p>`;
    return sendPage(request, reply, context.layout, { ...page, body });
  }
}

export function registerStorageCleanup(app: FastifyInstance, context: DashboardContext): void {
  app.post<{ Body: CleanupBody }>('/admin/storage/cleanup/dry-run', async (request, reply) =>
    showDryRun(request, reply, context),
  );
  app.post<{ Body: CleanupBody }>('/admin/storage/cleanup', async (request, reply) => {
    // No confirmation: the count first, server-side (the confirm field comes from the dry-run page).
    if (typeof request.body?.confirm !== 'string') return showDryRun(request, reply, context);
    const confirmed = /^\d{1,9}$/.test(request.body.confirm) ? Number(request.body.confirm) : 0;
    const cleanup = requestOf(request.body, false);
    return runDashboardAction(request, reply, context, '/admin/storage', async (actor) => {
      // m1: a dry run first, inside this POST; a run that would remove more than the confirmed
      // count is refused (audited), and nothing is removed. (The run then looks again: this narrows
      // the window between the confirmed page and the run to this request, it cannot close it.)
      const dry = await cleanupAction(context.admin, actor, { ...cleanup, dryRun: true });
      const found = totalOf(dry.result);
      if (found > confirmed) {
        const detail = `not confirmed: the cleanup would now remove or fix ${found}, ${confirmed} were confirmed; nothing removed`;
        await recordRefusal(
          context.admin,
          { actor, action: 'cleanup', parameters: parametersOf(cleanup) },
          detail,
        );
        return { outcome: 'refused' as const, detail, result: null };
      }
      return cleanupAction(context.admin, actor, cleanup);
    });
  });
}
