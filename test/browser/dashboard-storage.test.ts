/**
 * The dashboard's storage and audit pages in Debian's Chromium, over a real
 * server and really processed images: the storage figures equal
 * storageReport (GET /api/admin/storage's); the cleanup's dry run shows the
 * expired item and the orphan and removes nothing, a run without the
 * confirmation only shows the dry run again, the confirmed run removes
 * them; the audit page lists who did it (the pause by alice too), filters,
 * pages with the id cursor and keeps every string text. Screenshots at
 * 1280 and 360 px.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminSettingsOf } from '../../src/admin/admin-context.js';
import { storageReport } from '../../src/admin/storage-report.js';
import { listAudit, recordAudit } from '../../src/db/admin-audit.js';
import { findMedia } from '../../src/db/records.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { silentLogger } from '../../src/log.js';
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
import { makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';

const SHOTS = screenshotDir('dashboard-storage');
const WIDTHS = [1280, 360] as const;
const HOUR = 3_600_000;
const ORPHAN = 'library/user_3/product/img/424242_grid.webp';
const HOSTILE = '<img src=x onerror=alert(1)>';

describe.skipIf(chromiumMissing())('the dashboard storage and audit pages in Chromium', () => {
  let server: DashboardServer;
  let browser: Browser;
  const id: Record<string, number | undefined> = {};

  beforeAll(async () => {
    server = await startDashboardServer({
      prepare: async ({ t, config, store }) => {
        [id.cat, id.cup] = await ingestFiles(t.db, [SAMPLE('cat-chelsea.png'), SAMPLE('coffee-cup.png')], {
          userId: 3,
          role: 'product',
          isTestData: false,
        });
        [id.sign] = await ingestFiles(t.db, [SAMPLE('street-sign-text.png')], {
          userId: 9,
          role: 'profile',
          isTestData: true,
        });
        await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
      },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const report = () =>
    storageReport(
      {
        db: server.t.db,
        store: server.store,
        log: silentLogger(),
        settings: adminSettingsOf(server.config),
      },
      false,
    );

  async function withPage(key: string, work: (page: Page) => Promise<void>): Promise<void> {
    const context: BrowserContext = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = collectPageProblems(page);
      await logIn(page, server.base, key);
      await work(page);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }

  const figure = async (page: Page, name: string) =>
    ((await page.locator(`main [data-figure="${name}"]`).first().textContent()) ?? '').trim();
  const shoot = async (page: Page, name: string) => {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await screenshot(page, SHOTS, `${name}-${width}`);
    }
  };

  it('shows the storage report: totals, by data type and format, disk with its threshold', async () => {
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin/storage`);
      const expected = await report();
      expect(expected.byArea.library.files).toBeGreaterThan(0);
      expect(await figure(page, 'total.files')).toBe(String(expected.total.files));
      expect(await figure(page, 'byArea.bulk.files')).toBe(String(expected.byArea.bulk.files));
      expect(await figure(page, 'byArea.library.files')).toBe(String(expected.byArea.library.files));
      for (const [dataType, usage] of Object.entries(expected.byDataType)) {
        expect(await figure(page, `byDataType.${dataType}.bulk.files`)).toBe(String(usage.bulk.files));
        expect(await figure(page, `byDataType.${dataType}.library.files`)).toBe(String(usage.library.files));
      }
      expect(Object.keys(expected.byDataType).sort()).toEqual(['product', 'profile']);
      for (const [format, bytes] of Object.entries(expected.bytesByFormat))
        expect(await page.locator(`main td[data-format="${format}"]`).getAttribute('data-bytes')).toBe(
          String(bytes),
        );
      expect((await page.locator('main').textContent())?.replace(/\s+/g, ' ')).toContain(
        `the alert is at ${expected.disk!.alertPercent}%`,
      );
      await shoot(page, 'storage');

      // The store counted by listing it, on request.
      await page.getByRole('link', { name: 'Count the files in the store' }).click();
      expect(Number(await figure(page, 'store.library.objects'))).toBe(expected.byArea.library.files);
    });
  });

  it('dry-runs the cleanup (counts, nothing removed), asks again without the confirmation, then runs it', async () => {
    fs.mkdirSync(path.dirname(server.store.pathOf(ORPHAN)), { recursive: true });
    fs.writeFileSync(server.store.pathOf(ORPHAN), 'nobody points at me');
    const old = new Date(Date.now() - 2 * HOUR);
    fs.utimesSync(server.store.pathOf(ORPHAN), old, old);
    await server.t
      .db('media_files')
      .where({ id: id.cup })
      .update({ expires_at: Date.now() - HOUR });

    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin/storage`);
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.waitForURL(`${server.base}/admin/storage/cleanup/dry-run`);
      expect(await figure(page, 'expiredItems')).toBe('1');
      expect(await figure(page, 'orphanFiles')).toBe('1');
      expect(await page.locator('main').textContent()).toContain(ORPHAN);
      expect(
        await page
          .locator('main')
          .getByRole('link', { name: `item ${id.cup}` })
          .count(),
      ).toBe(1);
      expect(fs.existsSync(server.store.pathOf(ORPHAN))).toBe(true);
      expect((await findMedia(server.t.db, id.cup!))?.status).toBe('completed');
      const [dry] = (await listAudit(server.t.db, { action: 'cleanup', limit: 1 })).entries;
      expect(dry).toMatchObject({ actor: 'alice', outcome: 'ok', parameters: { dry_run: true } });
      await shoot(page, 'storage-dry-run');

      // A POST to the run without the dry run's confirmation: the dry run again, nothing removed.
      const token = await page
        .locator('form[action="/admin/logout"] input[name="_csrf"]')
        .getAttribute('value');
      const unconfirmed = await page.request.post(`${server.base}/admin/storage/cleanup`, {
        form: { _csrf: token!, expired: 'on', orphans: 'on' },
        maxRedirects: 0,
      });
      expect(unconfirmed.status()).toBe(200);
      expect(await unconfirmed.text()).toContain('Cleanup: dry run');
      expect(fs.existsSync(server.store.pathOf(ORPHAN))).toBe(true);

      // m1: another orphan appears after the dry run: the run would remove more than confirmed, so it
      // is refused (audited) and removes nothing.
      const second = ORPHAN.replace('424242', '434343');
      fs.writeFileSync(server.store.pathOf(second), 'nobody points at me either');
      fs.utimesSync(server.store.pathOf(second), old, old);
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: /Run the cleanup \(2 found\)/ }).click();
      await page.waitForURL(`${server.base}/admin/storage`);
      expect(await page.locator('.flash.refused').textContent()).toContain(
        'not confirmed: the cleanup would now remove or fix 3, 2 were confirmed; nothing removed',
      );
      expect(fs.existsSync(server.store.pathOf(ORPHAN))).toBe(true);
      expect(fs.existsSync(server.store.pathOf(second))).toBe(true);
      expect((await findMedia(server.t.db, id.cup!))?.status).toBe('completed');
      expect((await listAudit(server.t.db, { action: 'cleanup', limit: 1 })).entries[0]).toMatchObject({
        actor: 'alice',
        outcome: 'refused',
        parameters: { dry_run: false },
      });

      // The confirmed run after a new dry run (the browser asks first: data-confirm).
      await page.getByRole('button', { name: 'Dry run' }).click();
      await page.waitForURL(`${server.base}/admin/storage/cleanup/dry-run`);
      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: /Run the cleanup \(3 found\)/ }).click();
      await page.waitForURL(`${server.base}/admin/storage`);
      expect(await page.locator('.flash.ok').textContent()).toContain('removed: 1 expired item(s)');
      expect(fs.existsSync(server.store.pathOf(ORPHAN))).toBe(false);
      expect(fs.existsSync(server.store.pathOf(second))).toBe(false);
      expect((await findMedia(server.t.db, id.cup!))?.status).toBe('deleted');
      expect(await figure(page, 'retention.itemsDeleted.total')).toMatch(/^1 \(/);
    });
  });

  it('gives a read-only key the storage page without the cleanup form', async () => {
    await withPage(READER_KEY, async (page) => {
      await page.goto(`${server.base}/admin/storage`);
      expect(await page.locator('form[action="/admin/storage/cleanup/dry-run"]').count()).toBe(0);
      expect(await page.locator('main').textContent()).toContain('A read-only key cannot run a cleanup');
    });
  });

  it('lists the audit: the pause by alice, filters, the id cursor, every string as text', async () => {
    for (let i = 0; i < 55; i++)
      await recordAudit(server.t.db, {
        actor: i === 0 ? HOSTILE : `script-${i % 3}`,
        action: 'requeue',
        parameters: { ids: [i], note: HOSTILE },
        outcome: 'ok',
        detail: `requeued ${HOSTILE}`,
      });
    await withPage(ALICE_KEY, async (page) => {
      await page.goto(`${server.base}/admin`);
      await page.getByRole('button', { name: 'Pause claiming' }).click();
      await page.waitForURL(`${server.base}/admin`);
      await page.getByRole('link', { name: 'Audit' }).click();
      const first = page.locator('main table.audit tbody tr').first();
      expect(await first.locator('td').nth(2).textContent()).toBe('alice');
      expect(await first.locator('td').nth(3).textContent()).toBe('pause');
      expect(await page.locator('main table.audit tbody tr').count()).toBe(50);
      // Hostile strings are text: no element was made of them.
      expect(await page.locator('main img').count()).toBe(0);
      expect(
        await page.locator('main code', { hasText: '"note":"<img src=x onerror=alert(1)>"' }).count(),
      ).toBe(49);
      await shoot(page, 'audit');

      // Older → : the next page starts below the last id shown.
      const lastShown = Number(
        await page.locator('main table.audit tbody tr').last().getAttribute('data-audit-id'),
      );
      await page.getByRole('link', { name: 'Older →' }).click();
      expect(new URL(page.url()).searchParams.get('before')).toBe(String(lastShown));
      const rows = page.locator('main table.audit tbody tr');
      const ids: number[] = [];
      for (let i = 0; i < (await rows.count()); i++)
        ids.push(Number(await rows.nth(i).getAttribute('data-audit-id')));
      expect(ids.length).toBeGreaterThan(0);
      expect(Math.max(...ids)).toBeLessThan(lastShown);
      expect(await page.locator('main table.audit').textContent()).toContain(HOSTILE);

      // Filters: actor and action, through the form.
      await page.goto(`${server.base}/admin/audit`);
      await page.getByLabel('Actor (key name)').fill('alice');
      await page.getByLabel('Action').fill('cleanup');
      await page.getByRole('button', { name: 'Filter' }).click();
      const actions = await page.locator('main table.audit tbody tr td:nth-child(4)').allTextContents();
      // Dry run, the unconfirmed run's dry run, the refused run (its dry run, its refusal), the second
      // dry run, the run (its dry run, the run).
      expect(actions).toEqual(Array.from({ length: 7 }, () => 'cleanup'));
      const actors = await page.locator('main table.audit tbody tr td:nth-child(3)').allTextContents();
      expect(new Set(actors)).toEqual(new Set(['alice']));
      await page.goto(`${server.base}/admin/audit?actor=${encodeURIComponent(HOSTILE)}`);
      expect(await page.locator('main table.audit tbody tr').count()).toBe(1);
      expect(await page.getByLabel('Actor (key name)').inputValue()).toBe(HOSTILE);
    });
  });
});
