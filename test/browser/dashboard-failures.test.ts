/**
 * The Failures page and the requeue and heal actions in Debian's Chromium,
 * over a real server whose items went through the real pipeline: failures
 * grouped by class and message with counts and the newest example (the XSS
 * file name as text); filter by class; requeue a group whose source file was
 * put back, through the confirmation with its count, then a real worker
 * loop completes it; a requeue refused when more match than were
 * confirmed; requeue from a step and heal from the Item page; a read-only
 * session sees no forms. Screenshots at 1280 and 360 px.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/db/admin-audit.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { findChecklist } from '../../src/db/records.js';
import { failUnclaimedItem } from '../../src/db/unclaimed-failure.js';
import { chromiumMissing, launchBrowser, screenshot, screenshotDir } from '../helpers/browser.js';
import { ALICE_KEY, READER_KEY } from '../helpers/dashboard-server.js';
import {
  XSS_NAME,
  cookieHeader,
  csrfOf,
  startItemsFixture,
  textOf,
  withPage,
  type ItemsFixture,
} from './dashboard-items-fixture.js';

const SHOTS = screenshotDir('dashboard-failures');

interface GroupRow {
  errorClass: string;
  message: string;
  count: number;
  newest: string;
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

async function groupRows(page: Page): Promise<GroupRow[]> {
  const rows = page.locator('table.failures tbody tr');
  const out: GroupRow[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).locator('td').allTextContents();
    out.push({
      errorClass: squash(cells[0]!),
      message: squash(cells[1]!),
      count: Number(squash(cells[2]!)),
      newest: squash(cells[3]!),
    });
  }
  return out;
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: 900 });
    await screenshot(page, SHOTS, `${name}-${width}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The item page's status, after a reload. */
async function statusOnPage(page: Page, base: string, id: number): Promise<string> {
  await page.goto(`${base}/admin/items/${id}`);
  return ((await page.locator('h1 span').textContent()) ?? '').trim();
}

describe.skipIf(chromiumMissing())('the dashboard Failures page and its actions in Chromium', () => {
  let fixture: ItemsFixture;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    // HEAL_BATCH 1: a bulk heal's forged count is capped at it (m2).
    fixture = await startItemsFixture({ HEAL_BATCH: '1' });
    base = fixture.server.base;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await fixture?.server.close();
    fixture?.cleanup();
  });

  const db = () => fixture.server.t.db;

  it('groups the failures by class and message, with the XSS name as text', async () => {
    // A served item whose callback failed: completed for the Items list, so not a failure group (m8).
    await failUnclaimedItem(db(), fixture.ids.cat, {
      step: 'callback',
      errorClass: 'AUTH',
      message: 'callback refused',
    });
    await db()('media_files').where({ id: fixture.ids.cat }).update({ status: 'completed' });
    await withPage(browser, base, ALICE_KEY, async (page) => {
      await page.goto(`${base}/admin/failures`);
      const groups = await groupRows(page);
      expect(groups.map((g) => [g.errorClass, g.count]).sort()).toEqual([
        ['GONE', 1],
        ['INVALID_INPUT', 1],
        ['INVALID_INPUT', 1],
      ]);
      const svg = groups.find((g) => g.message.startsWith('SVG is not accepted'))!;
      expect(svg.newest).toContain(`${fixture.ids.xss} ${XSS_NAME}`);
      expect(groups.find((g) => g.errorClass === 'GONE')!.message).toContain('no longer exists');
      await expect.poll(() => page.getByText(XSS_NAME).first().isVisible()).toBe(true);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      await shoot(page, 'failures');
      // Each class's link lists exactly the items its groups count (m8).
      for (const errorClass of new Set(groups.map((g) => g.errorClass))) {
        const counted = groups.filter((g) => g.errorClass === errorClass).reduce((n, g) => n + g.count, 0);
        const href = await page
          .locator('table.failures a', { hasText: errorClass })
          .first()
          .getAttribute('href');
        await page.goto(`${base}${href}`);
        expect(await page.locator('table.items tbody tr').count(), errorClass).toBe(counted);
        await page.goto(`${base}/admin/failures`);
      }
      await page.goto(`${base}/admin/failures`);
      await page.getByLabel('error class').selectOption('GONE');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((url) => url.searchParams.get('class') === 'GONE');
      expect((await groupRows(page)).map((g) => g.errorClass)).toEqual(['GONE']);
    });
  });

  it('requeues a group after a confirmation with its count, and a worker completes it', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      fixture.restoreMissing();
      await page.goto(`${base}/admin/failures?class=GONE`);
      await page.getByRole('button', { name: 'Requeue this group…' }).click();
      await page.waitForURL((url) => url.pathname === '/admin/failures/requeue');
      await expect.poll(() => textOf(page, 'main')).toContain('This will requeue 1 failed item(s)');
      await shoot(page, 'confirm-requeue-group');
      await page.getByRole('button', { name: 'Requeue 1 item(s)' }).click();
      await page.waitForURL((url) => url.pathname === '/admin/failures');
      await expect.poll(() => textOf(page, '.flash')).toContain('requeued 1 of 1 selected');
      expect((await groupRows(page)).some((g) => g.errorClass === 'GONE')).toBe(false);
      expect(await statusOnPage(page, base, fixture.ids.missing)).toBe('pending');
      await fixture.process();
      expect(await statusOnPage(page, base, fixture.ids.missing)).toBe('completed');
      const variants = await listVariants(db(), fixture.ids.missing);
      expect(variants.length).toBeGreaterThan(0);
      expect(await page.locator('#variants img').count()).toBe(variants.length);
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        outcome: 'ok',
        actor: 'alice',
      });
    });
  });

  it('refuses a group requeue without the confirmed ids, and acts only on the ids shown (M6)', async () => {
    await withPage(browser, base, ALICE_KEY, async (page, context) => {
      await page.goto(`${base}/admin/failures?class=INVALID_INPUT`);
      const group = await page.locator('input[name="group"]').first().getAttribute('value');
      const before = {
        notes: await findChecklist(db(), fixture.ids.notes),
        xss: await findChecklist(db(), fixture.ids.xss),
      };
      const post = async (fields: Record<string, string>) =>
        fetch(`${base}/admin/failures/requeue`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            cookie: await cookieHeader(context),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ _csrf: await csrfOf(page), ...fields }).toString(),
        });
      // No ids: nothing confirmed, refused and audited.
      expect((await post({ group: group!, expected: '1' })).status).toBe(303);
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        outcome: 'refused',
        detail: 'not confirmed: the form named no ids; nothing done',
      });
      // Ids not in the group (the other INVALID_INPUT item is another group): left alone.
      const other = group!.includes('SVG') ? fixture.ids.notes : fixture.ids.xss;
      expect((await post({ group: group!, expected: '1', ids: String(other) })).status).toBe(303);
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        parameters: { ids: [] },
      });
      expect(await findChecklist(db(), fixture.ids.notes)).toEqual(before.notes);
      expect(await findChecklist(db(), fixture.ids.xss)).toEqual(before.xss);
      // m3: a missing or malformed group is a 400 naming the field, never the null/null group.
      for (const bad of [{}, { group: 'not json' }, { group: '["a"]' }] as Array<Record<string, string>>) {
        const response = await post({ ...bad, expected: '1', ids: String(fixture.ids.notes) });
        expect(response.status).toBe(400);
        expect(await response.text()).toContain('The field <code>group</code> is missing or malformed');
      }
      const shown = await fetch(`${base}/admin/failures/requeue?group=nonsense`, {
        headers: { cookie: await cookieHeader(context) },
      });
      expect(shown.status).toBe(400);
      expect(await findChecklist(db(), fixture.ids.notes)).toEqual(before.notes);
    });
  });

  it('requeues an item from a step and heals a transient failure from the Item page', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      const id = fixture.ids.cup;
      // Two transient failures, the other one older: the item page requeues only its own item (M7).
      await failUnclaimedItem(db(), fixture.ids.hubble, {
        step: 'resize',
        errorClass: 'TRANSIENT',
        message: 'older hiccup',
      });
      await failUnclaimedItem(db(), id, { step: 'resize', errorClass: 'TRANSIENT', message: 'disk hiccup' });
      await page.goto(`${base}/admin/items/${id}`);
      await page.getByRole('button', { name: 'Requeue this item from its failed step (resize)' }).click();
      await page.waitForURL((url) => url.pathname === `/admin/items/${id}`);
      await expect.poll(() => textOf(page, '.flash')).toContain('requeued 1 of 1 selected');
      expect((await findChecklist(db(), id))!).toMatchObject({ state: 'queued', resize_optimize: 'pending' });
      expect((await findChecklist(db(), fixture.ids.hubble))!.state).toBe('failed');
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        outcome: 'ok',
        parameters: { ids: [id], failed: true },
      });
      // The bulk heal says what heal is, and a forged count is capped at HEAL_BATCH (1 here: m2).
      await page.goto(`${base}/admin/items/heal`);
      await expect.poll(() => textOf(page, 'main')).toContain('nor an item');
      await page.locator('input[name="expected"]').evaluate((input, value) => {
        (input as unknown as { value: string }).value = value;
      }, '50');
      await failUnclaimedItem(db(), fixture.ids.cat, {
        step: 'resize',
        errorClass: 'TRANSIENT',
        message: 'x',
      });
      await page.getByRole('button', { name: /^Heal \d+ item\(s\)$/ }).click();
      await expect.poll(() => textOf(page, '.flash')).toContain('re-queued 1 item(s)');
      const healed = [fixture.ids.hubble, fixture.ids.cat].map(
        async (other) => (await findChecklist(db(), other))!.state,
      );
      expect((await Promise.all(healed)).sort()).toEqual(['failed', 'queued']);
      await fixture.process();
      expect(await statusOnPage(page, base, id)).toBe('completed');
      await page.getByLabel('From step').selectOption('resize');
      await page.getByRole('button', { name: 'Requeue…' }).click();
      await expect.poll(() => textOf(page, 'main')).toContain('This will requeue 1 item(s) matching id');
      await shoot(page, 'confirm-requeue-item');
      await page.getByRole('button', { name: 'Requeue 1 item(s)' }).click();
      await page.waitForURL((url) => url.pathname === `/admin/items/${id}`);
      await expect.poll(() => textOf(page, '.flash')).toContain('requeued 1 of 1 selected');
      // A served item stays served while it is re-rendered; the checklist is queued from resize.
      expect((await findChecklist(db(), id))!).toMatchObject({ state: 'queued', resize_optimize: 'pending' });
      await fixture.process();
      expect((await findChecklist(db(), id))!.state).toBe('completed');
    });
  });

  it('shows a read-only session the groups but no forms, and refuses its POST', async () => {
    await withPage(browser, base, READER_KEY, async (page, context) => {
      await page.goto(`${base}/admin/failures`);
      expect((await groupRows(page)).length).toBeGreaterThan(0);
      expect(await page.locator('main form[action="/admin/failures/requeue"]').count()).toBe(0);
      const response = await fetch(`${base}/admin/failures/requeue`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: await cookieHeader(context), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          _csrf: await csrfOf(page),
          group: JSON.stringify(['INVALID_INPUT', null]),
          expected: '5',
        }).toString(),
      });
      expect(response.status).toBe(403);
      await screenshot(page, SHOTS, 'failures-read-only-1280');
    });
  });
});
