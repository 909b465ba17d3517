/**
 * The dashboard's overview and workers pages in Debian's Chromium, over a
 * real server and a SQLite database whose items went through the real
 * pipeline: the overview's figures equal the built CLI's `stats --json`
 * over the same database; pause and resume from the overview, with the
 * banner and the audit row; a read-only key sees no form and is refused a
 * POST carrying its own valid token; the page reads without JavaScript and
 * refreshes itself with it. Screenshots at 1280 and 360 px.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSettingsOf } from '../../src/admin/admin-context.js';
import { collectStats, type Stats } from '../../src/admin/stats-report.js';
import { listAudit } from '../../src/db/admin-audit.js';
import { readPauseState } from '../../src/db/fleet-pause.js';
import { registerWorker } from '../../src/db/workers.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import {
  chromiumMissing,
  collectPageProblems,
  launchBrowser,
  logIn,
  screenshot,
  screenshotDir,
} from '../helpers/browser.js';
import {
  ALICE_KEY,
  READER_KEY,
  startDashboardServer,
  type DashboardServer,
} from '../helpers/dashboard-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { addItems, claimOne, makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';
import { runCli } from '../helpers/processes.js';

const SHOTS = screenshotDir('dashboard-overview');
const WIDTHS = [1280, 360] as const;

/** The value at a dotted path of the stats JSON ("queue.byStatus.completed", "queue.liveWorkers.length"). */
function valueAt(stats: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], stats);
}

/** Every figure of <main> that names a stats path, as [path, shown text]. */
async function figuresOf(page: Page): Promise<Array<[string, string]>> {
  const figures = page.locator('main [data-figure]');
  const out: Array<[string, string]> = [];
  for (let i = 0; i < (await figures.count()); i++) {
    const figure = figures.nth(i);
    out.push([(await figure.getAttribute('data-figure'))!, ((await figure.textContent()) ?? '').trim()]);
  }
  return out;
}

/**
 * Compares each shown figure with the stats: counts exactly; the disk's
 * used percent within a point (other programs write to this disk between
 * the two readings); ages and the chart's totals are checked elsewhere.
 */
function compareFigures(figures: Array<[string, string]>, stats: Stats): number {
  let compared = 0;
  for (const [figurePath, text] of figures) {
    // Not in the stats: the chart's totals and where the unfinished items are (checked on their own).
    if (/^(throughput|atStep)\./.test(figurePath) || figurePath.endsWith('Ms')) continue;
    const expected = valueAt(stats, figurePath);
    if (figurePath === 'pause.paused') expect(text).toBe(expected ? 'paused' : 'running');
    else if (figurePath === 'disk.alert') expect(stats.disk?.alert).toBe(true);
    else if (figurePath === 'disk.usedPercent')
      expect(Math.abs(Number(text.replace('%', '')) - stats.disk!.usedPercent)).toBeLessThanOrEqual(1);
    else expect(Number(text.replace(/,/g, '')), figurePath).toBe(expected ?? 0);
    compared += 1;
  }
  return compared;
}

describe.skipIf(chromiumMissing())('the dashboard overview and workers pages in Chromium', () => {
  let server: DashboardServer;
  let browser: Browser;
  let claimedId: number;

  beforeAll(async () => {
    server = await startDashboardServer({
      prepare: async ({ t, config, store, dir }) => {
        const notAnImage = path.join(dir, 'notes.jpg');
        fs.writeFileSync(notAnImage, 'this is text pretending to be a JPEG\n');
        await ingestFiles(t.db, [SAMPLE('cat-chelsea.png'), SAMPLE('coffee-cup.png'), notAnImage], {
          userId: 3,
          role: 'product',
          isTestData: false,
        });
        await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
        // A live worker holding an item: what the overview says it is doing.
        await registerWorker(t.db, 'live-worker-7', 'test', 2);
        claimedId = (await addItems(t.db, 1))[0]!;
        await claimOne(t.db, 'live-worker-7');
      },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const statsNow = () =>
    collectStats({ db: server.t.db, settings: adminSettingsOf(server.config) }, undefined);

  async function withPage<T>(
    key: string,
    work: (page: Page, problems: string[]) => Promise<T>,
    contextOptions: Parameters<Browser['newContext']>[0] = {},
  ): Promise<T> {
    const context: BrowserContext = await browser.newContext(contextOptions);
    try {
      const page = await context.newPage();
      const problems = collectPageProblems(page);
      await logIn(page, server.base, key);
      const result = await work(page, problems);
      expect(problems).toEqual([]);
      return result;
    } finally {
      await context.close();
    }
  }

  it("shows the numbers the built CLI's stats --json prints over the same database", async () => {
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin`);
      const figures = await figuresOf(page);
      const cli = await runCli(['stats', '--json'], {
        DATABASE_URL: server.t.url,
        STORAGE_DIR: server.config.storageDir,
      });
      expect(cli.code, cli.stderr).toBe(0);
      const stats = JSON.parse(cli.stdout) as Stats;
      // The data is what the test made: two completed, one failed for not being an image, one claimed.
      expect(stats.queue.byStatus).toMatchObject({ completed: 2, failed: 1 });
      expect(Object.keys(stats.queue.failuresByClass)).toHaveLength(1);
      const shown = new Set(figures.map(([p]) => p));
      for (const status of Object.keys(stats.queue.byStatus))
        expect(shown).toContain(`queue.byStatus.${status}`);
      for (const errorClass of Object.keys(stats.queue.failuresByClass))
        expect(shown).toContain(`queue.failuresByClass.${errorClass}`);
      for (const figure of ['queue.leased', 'queue.dueNow', 'queue.gaveUp', 'storage.byArea.library.files'])
        expect(shown).toContain(figure);
      expect(compareFigures(figures, stats)).toBeGreaterThan(20);

      // The chart counts the completed and failed events of the last hour: all of this test's.
      const completed = page.locator('[data-figure="throughput.completed"]');
      expect(await completed.textContent()).toBe(String(stats.queue.byStatus.completed));
      expect(await page.locator('[data-figure="throughput.failed"]').textContent()).toBe('1');
      expect(await page.locator('svg.chart rect.bar').count()).toBe(24);
      expect(await page.getByRole('link', { name: 'INVALID_INPUT' }).getAttribute('href')).toBe(
        '/admin/items?status=failed&error_class=INVALID_INPUT',
      );
      // The one unfinished item is claimed, at its first step.
      expect(await page.locator('[data-figure="atStep.retrieve.inProgress"]').textContent()).toBe('1');
      expect(await page.locator('[data-figure="atStep.retrieve.queued"]').textContent()).toBe('0');
      // The live worker and what it holds: the claimed item at its first step.
      const worker = page.locator('main tr[data-worker="live-worker-7"]');
      await expect.poll(() => worker.textContent()).toContain(`item ${claimedId} at retrieve`);
      expect(await worker.getByRole('link', { name: `item ${claimedId}` }).getAttribute('href')).toBe(
        `/admin/items/${claimedId}`,
      );
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `overview-${width}`);
      }
    });
  });

  it('lists every worker seen lately on the workers page, stopped ones with their state', async () => {
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin/workers`);
      const stopped = page.locator('tr[data-worker="test-worker"]');
      expect(await stopped.textContent()).toContain('stopped');
      const live = page.locator('tr[data-worker="live-worker-7"]');
      expect(await live.textContent()).toContain('live');
      expect(await live.textContent()).toContain(`item ${claimedId} at retrieve`);
      expect(await page.locator('[data-figure="workers.live"]').textContent()).toBe('1');
      expect(await page.locator('[data-figure="workers.stopped"]').textContent()).toBe('1');
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `workers-${width}`);
      }
    });
  });

  it('pauses from the overview (banner, who and when, audit row by alice), then resumes', async () => {
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin`);
      await page.getByLabel('Reason (optional, shown to everyone)').fill('swapping the <b>disk</b>');
      await page.getByRole('button', { name: 'Pause claiming' }).click();
      await page.waitForURL(`${server.base}/admin`);
      const banner = page.locator('.banner.paused');
      expect(await banner.textContent()).toContain('by alice');
      expect(await banner.textContent()).toContain('swapping the <b>disk</b>');
      expect(await page.locator('.banner.paused b').count()).toBe(0);
      expect(await page.locator('.flash.ok').textContent()).toContain('fleet paused');
      expect(await page.locator('main [data-figure="pause.paused"]').textContent()).toBe('paused');
      expect(await page.locator('main .fleet-state').textContent()).toContain('Paused by alice');
      const state = await readPauseState(server.t.db);
      expect(state).toMatchObject({ paused: true, pausedBy: 'alice', reason: 'swapping the <b>disk</b>' });
      const [row] = (await listAudit(server.t.db, { action: 'pause', limit: 1 })).entries;
      expect(row).toMatchObject({
        actor: 'alice',
        outcome: 'ok',
        parameters: { reason: 'swapping the <b>disk</b>' },
      });
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `overview-paused-${width}`);
      }

      await page.locator('main').getByRole('button', { name: 'Resume', exact: true }).click();
      await page.waitForURL(`${server.base}/admin`);
      expect(await page.locator('.banner.paused').count()).toBe(0);
      expect(await page.locator('main [data-figure="pause.paused"]').textContent()).toBe('running');
      expect(await page.locator('main .fleet-state').textContent()).toContain('Last resumed by alice');
      expect((await readPauseState(server.t.db)).paused).toBe(false);
    });
  });

  it('shows a read-only key the overview without the pause form, and refuses its POST with a valid token', async () => {
    await withPage(READER_KEY, async (page) => {
      await page.goto(`${server.base}/admin`);
      expect(await page.locator('main [data-figure="queue.byStatus.completed"]').textContent()).toBe('2');
      expect(await page.locator('form[action="/admin/pause"]').count()).toBe(0);
      expect(await page.locator('form[action="/admin/resume"]').count()).toBe(0);
      const auditBefore = (await listAudit(server.t.db, { limit: 100 })).entries.length;
      // The session's own token, from the logout form: the CSRF check passes, the role check refuses.
      const token = await page
        .locator('form[action="/admin/logout"] input[name="_csrf"]')
        .getAttribute('value');
      expect(token).toMatch(/.{16,}/);
      const answer = await page.request.post(`${server.base}/admin/pause`, {
        form: { _csrf: token!, reason: 'not allowed' },
        maxRedirects: 0,
      });
      expect(answer.status()).toBe(403);
      expect(await answer.text()).toContain('read-only');
      expect((await readPauseState(server.t.db)).paused).toBe(false);
      expect((await listAudit(server.t.db, { limit: 100 })).entries.length).toBe(auditBefore);
    });
  });

  it('reads without JavaScript: the overview shows its numbers', async () => {
    await withPage(
      ALICE_KEY,
      async (page) => {
        await page.goto(`${server.base}/admin`);
        const stats = await statsNow();
        expect(await page.locator('main [data-figure="queue.byStatus.completed"]').textContent()).toBe(
          String(stats.queue.byStatus.completed),
        );
        expect(compareFigures(await figuresOf(page), stats)).toBeGreaterThan(20);
        // No script ran: the live-refresh status line dashboard.js adds is not there.
        expect(await page.locator('p.refreshed').count()).toBe(0);
      },
      { javaScriptEnabled: false },
    );
  });

  it('refreshes <main> on its own when the database changes, without a reload', async () => {
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin`);
      const pending = page.locator('main [data-figure="queue.byStatus.pending"]');
      const before = Number(await pending.textContent());
      // A reload would lose this mark.
      await page.evaluate("document.body.setAttribute('data-test-mark', 'kept')");
      await addItems(server.t.db, 3);
      await expect
        .poll(async () => Number(await pending.textContent()), { timeout: 30_000, interval: 250 })
        .toBe(before + 3);
      expect(await page.locator('main [data-figure="atStep.retrieve.queued"]').textContent()).toBe('3');
      expect(await page.locator('body').getAttribute('data-test-mark')).toBe('kept');
      expect(await page.locator('p.refreshed').textContent()).toContain('Updated');
    });
  });
});
