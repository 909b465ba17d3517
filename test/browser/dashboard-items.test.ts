/**
 * The Items and Item pages in Debian's Chromium, over a real server whose
 * items went through the real pipeline: the filter (reached and sent by
 * keyboard alone) lists exactly the matching items; keyset pages walk every
 * item once, forward and back; an item shows every variant as a loaded
 * picture, its facts, timeline, analysis, callback history and cost; the
 * XSS file name stays text; deleting test data goes through a confirmation
 * with the count, and is refused when more match than were confirmed; a
 * POST without the CSRF token and a read-only session's POST change
 * nothing. Screenshots at 1280 and 360 px.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/db/admin-audit.js';
import { listMedia } from '../../src/db/media-list.js';
import { listVariants } from '../../src/db/media-outputs.js';
import { findChecklist, findMedia } from '../../src/db/records.js';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { chromiumMissing, launchBrowser, screenshot, screenshotDir } from '../helpers/browser.js';
import { ALICE_KEY, READER_KEY } from '../helpers/dashboard-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import {
  XSS_NAME,
  cookieHeader,
  csrfOf,
  startItemsFixture,
  textOf,
  withPage,
  type ItemsFixture,
} from './dashboard-items-fixture.js';

const SHOTS = screenshotDir('dashboard-items');

/** The ids in the items table, in page order. */
async function listedIds(page: Page): Promise<number[]> {
  const cells = await page.locator('table.items tbody tr td:first-child').allTextContents();
  return cells.map((text) => Number(text.trim()));
}

interface Focusable {
  id: string;
  textContent: string | null;
}

/** The focused element's id and text (the tests' tsconfig has no DOM types: the page's document is typed here). */
async function focusedOn(page: Page): Promise<{ id: string; text: string }> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as { document: { activeElement: Focusable | null } }).document
      .activeElement;
    return { id: active?.id ?? '', text: active?.textContent?.trim() ?? '' };
  });
}

/** The XSS name is on the page as text, and nothing it names exists or ran. */
async function expectXssAsText(page: Page): Promise<void> {
  await expect.poll(() => page.getByText(XSS_NAME, { exact: false }).first().isVisible()).toBe(true);
  expect(await page.locator('img[src="x"]').count()).toBe(0);
}

describe.skipIf(chromiumMissing())('the dashboard Items and Item pages in Chromium', () => {
  let fixture: ItemsFixture;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    fixture = await startItemsFixture();
    base = fixture.server.base;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await fixture?.server.close();
    fixture?.cleanup();
  });

  const db = () => fixture.server.t.db;

  it('lists every item with the XSS name as text, and filters by keyboard alone', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      await page.goto(`${base}/admin/items`);
      const all = (await listMedia(db(), { limit: 100 })).items.map((item) => item.media_id);
      expect(await listedIds(page)).toEqual(all);
      await expectXssAsText(page);
      // Tab to the status filter, pick "failed" by typing, Tab on to the Filter button, Enter.
      for (let i = 0; i < 60 && (await focusedOn(page)).id !== 'f-status'; i++)
        await page.keyboard.press('Tab');
      expect((await focusedOn(page)).id).toBe('f-status');
      await page.keyboard.type('failed');
      for (let i = 0; i < 30 && (await focusedOn(page)).text !== 'Filter'; i++)
        await page.keyboard.press('Tab');
      expect(await focusedOn(page)).toEqual({ id: '', text: 'Filter' });
      await page.keyboard.press('Enter');
      await page.waitForURL((url) => url.searchParams.get('status') === 'failed');
      const failed = (await listMedia(db(), { status: 'failed', limit: 100 })).items.map((i) => i.media_id);
      expect(failed.sort((a, b) => a - b)).toEqual(
        [fixture.ids.notes, fixture.ids.xss, fixture.ids.missing].sort((a, b) => a - b),
      );
      expect(await listedIds(page)).toEqual(failed);
      await expectXssAsText(page);
      for (const width of [1280, 360]) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `items-failed-${width}`);
      }
    });
  });

  it('filters by error class, user, test data and date, and finds by id and main API id', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      const today = new Date().toISOString().slice(0, 10);
      const cases: Array<[string, number[]]> = [
        ['error_class=GONE', [fixture.ids.missing]],
        ['error_class=INVALID_INPUT&user_id=5', [fixture.ids.xss]],
        ['test=yes&status=completed', [fixture.ids.hubble]],
        [`user_id=3&since=${today}&until=${today}`, [fixture.ids.cat, fixture.ids.cup, fixture.ids.notes]],
        ['until=2000-01-01', []],
        [`id=${fixture.ids.cup}`, [fixture.ids.cup]],
        ['main_api_id=424242', []],
        ['step=retrieve', [fixture.ids.notes, fixture.ids.xss, fixture.ids.missing].sort((a, b) => a - b)],
      ];
      for (const [query, expected] of cases) {
        await page.goto(`${base}/admin/items?${query}`);
        expect(await listedIds(page), query).toEqual(expected);
      }
      await page.goto(`${base}/admin/items?status=nonsense`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('status must be one of');
    });
  });

  it('walks every item once in keyset pages of two, forward and back', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      await page.goto(`${base}/admin/items?limit=2`);
      const pages: number[][] = [await listedIds(page)];
      while ((await page.locator('a[rel="next"]').count()) > 0) {
        await page.locator('a[rel="next"]').click();
        await page.waitForLoadState();
        const ids = await listedIds(page);
        if (ids.length === 0) break;
        pages.push(ids);
      }
      const all = (await listMedia(db(), { limit: 100 })).items.map((item) => item.media_id);
      expect(pages.flat()).toEqual(all);
      expect(pages.length).toBe(Math.ceil(all.length / 2));
      for (let back = pages.length - 2; back >= 0; back--) {
        await page.locator('a[rel="prev"]').click();
        await page.waitForLoadState();
        expect(await listedIds(page)).toEqual(pages[back]);
      }
      expect(await page.locator('a[rel="prev"]').count()).toBe(0);
    });
  });

  it('shows an item: every variant a loaded picture, the facts, the timeline, analysis, callbacks and cost', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      const id = fixture.ids.cat;
      const variants = await listVariants(db(), id);
      expect(variants.length).toBeGreaterThan(0);
      await page.goto(`${base}/admin/items/${id}`);
      const images = page.locator('#variants img');
      expect(await images.count()).toBe(variants.length);
      await expect
        .poll(() =>
          images.evaluateAll((all) => all.every((img) => (img as unknown as { complete: boolean }).complete)),
        )
        .toBe(true);
      const widths = await images.evaluateAll((all) =>
        all.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      );
      expect(
        widths.every((width) => width > 0),
        JSON.stringify(widths),
      ).toBe(true);
      const media = (await findMedia(db(), id))!;
      for (const text of [
        media.sha256!,
        'cat-chelsea.png',
        `${media.width} × ${media.height}`,
        'Callback history',
      ])
        await expect.poll(() => textOf(page, 'main')).toContain(text);
      expect(await page.locator('table.steps tbody tr').count()).toBe(4);
      expect(await page.locator('table.events tbody tr').count()).toBeGreaterThan(4);
      expect(await page.getByRole('heading', { name: 'Analysis' }).count()).toBe(1);
      expect(await page.locator('[aria-label="The analysis"] dt').count()).toBeGreaterThan(5);
      expect(await page.locator('[aria-label="Cost"] dt').count()).toBeGreaterThan(3);
      for (const width of [1280, 360]) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `item-completed-${width}`);
      }
      await page.goto(`${base}/admin/items/${fixture.ids.xss}`);
      await expectXssAsText(page);
      await expect.poll(() => textOf(page, 'main')).toContain('INVALID_INPUT');
      await screenshot(page, SHOTS, 'item-xss-failed-360');
      await page.setViewportSize({ width: 1280, height: 900 });
      await screenshot(page, SHOTS, 'item-xss-failed-1280');
    });
  });

  it('deletes test data after a confirmation with the count, and refuses when more match than confirmed', async () => {
    await withPage(browser, base, ALICE_KEY, async (page, context) => {
      await page.goto(`${base}/admin/items?user_id=9`);
      await page.getByRole('button', { name: 'Delete test data…' }).click();
      await page.waitForURL((url) => url.pathname === '/admin/items/delete-test-data');
      await expect.poll(() => textOf(page, 'main')).toContain('This will delete 1 test data item(s)');
      for (const width of [1280, 360]) {
        await page.setViewportSize({ width, height: 900 });
        await screenshot(page, SHOTS, `confirm-delete-${width}`);
      }
      // Confirmed for 0, while 1 matches: refused, audited, nothing deleted.
      const refused = await fetch(`${base}/admin/items/delete-test-data`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: await cookieHeader(context), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: await csrfOf(page), user_id: '9', expected: '0' }).toString(),
      });
      expect(refused.status).toBe(303);
      expect((await findMedia(db(), fixture.ids.hubble))!.status).toBe('completed');
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'delete-test-data',
        outcome: 'refused',
        actor: 'alice',
      });
      await page.getByRole('button', { name: 'Delete 1 item(s)' }).click();
      await page.waitForURL(
        (url) => url.pathname === '/admin/items' && url.searchParams.get('user_id') === '9',
      );
      await expect.poll(() => textOf(page, '.flash')).toContain('deleted 1 test data item(s)');
      expect((await findMedia(db(), fixture.ids.hubble))!.status).toBe('deleted');
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'delete-test-data',
        outcome: 'ok',
        actor: 'alice',
      });
    });
  });

  it('refuses a POST without the CSRF token with 403, and changes nothing', async () => {
    await withPage(browser, base, ALICE_KEY, async (page, context) => {
      await page.goto(`${base}/admin/items`);
      const before = await findChecklist(db(), fixture.ids.notes);
      const audits = (await listAudit(db(), { limit: 100 })).entries.length;
      const response = await fetch(`${base}/admin/items/requeue`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: await cookieHeader(context), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id: String(fixture.ids.notes), expected: '1' }).toString(),
      });
      expect(response.status).toBe(403);
      expect(await findChecklist(db(), fixture.ids.notes)).toEqual(before);
      expect((await listAudit(db(), { limit: 100 })).entries.length).toBe(audits);
    });
  });

  it('shows a read-only session the items but no action forms, and refuses its POSTs', async () => {
    await withPage(browser, base, READER_KEY, async (page, context) => {
      await page.goto(`${base}/admin/items`);
      expect((await listedIds(page)).length).toBeGreaterThan(0);
      await expectXssAsText(page);
      expect(await page.locator('form[action^="/admin/items/"]').count()).toBe(0);
      await page.goto(`${base}/admin/items/${fixture.ids.notes}`);
      expect(await page.locator('main form').count()).toBe(0);
      await page.goto(`${base}/admin/items/requeue?id=${fixture.ids.notes}`);
      expect(await page.locator('main form').count()).toBe(0);
      await expect.poll(() => textOf(page, 'main')).toContain('read-only');
      const before = await findChecklist(db(), fixture.ids.notes);
      const response = await fetch(`${base}/admin/items/requeue`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: await cookieHeader(context), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          _csrf: await csrfOf(page),
          id: String(fixture.ids.notes),
          expected: '1',
        }).toString(),
      });
      expect(response.status).toBe(403);
      expect(await findChecklist(db(), fixture.ids.notes)).toEqual(before);
      await page.goto(`${base}/admin/items`);
      await screenshot(page, SHOTS, 'items-read-only-1280');
    });
  });

  it('asks for a step before requeueing served items, and says what stops being served (M1)', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      const id = fixture.ids.cat;
      await page.goto(`${base}/admin/items/requeue?id=${id}`);
      await expect
        .poll(() => textOf(page, 'main'))
        .toContain('1 of these item(s) are served now: choose the step');
      expect(await page.locator('select#confirm-step').getAttribute('required')).not.toBeNull();
      // Posted without a step anyway (no browser check): refused and audited, the item still served.
      const token = await csrfOf(page);
      const response = await page.request.post(`${base}/admin/items/requeue`, {
        form: { _csrf: token, id: String(id), ids: String(id), expected: '1' },
        maxRedirects: 0,
      });
      expect(response.status()).toBe(303);
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        outcome: 'refused',
        actor: 'alice',
      });
      expect((await listAudit(db(), { limit: 1 })).entries[0]!.detail).toContain('choose a step');
      expect((await findMedia(db(), id))!.status).toBe('completed');
      expect((await findChecklist(db(), id))!.state).toBe('completed');
      const figures = async () => [
        await textOf(page, '[data-figure="stop-serving"]'),
        await textOf(page, '[data-figure="re-download"]'),
      ];
      await page.goto(`${base}/admin/items/requeue?id=${id}&from_step=retrieve`);
      expect(await figures()).toEqual(['1', '1']);
      await page.goto(`${base}/admin/items/requeue?id=${id}&from_step=resize`);
      expect(await figures()).toEqual(['0', '0']);
      // A failed item with no step chosen restarts at its failed step (retrieve): re-downloaded, nothing served.
      await page.goto(`${base}/admin/items/requeue?id=${fixture.ids.notes}`);
      expect(await figures()).toEqual(['0', '1']);
    });
  });

  it('acts only on the ids the confirmation showed, and says how many no longer matched (M6)', async () => {
    await withPage(browser, base, ALICE_KEY, async (page) => {
      // user 3: cat, cup, notes; from callback, which keeps served items served.
      await page.goto(`${base}/admin/items/requeue?user_id=3&from_step=callback`);
      await expect.poll(() => textOf(page, 'main')).toContain('This will requeue 3 item(s)');
      // Meanwhile one shown item stops matching and a new one starts: the count is still 3.
      await db()('media_files').where({ id: fixture.ids.notes }).update({ user_id: 4 });
      const [fresh] = await ingestFiles(db(), [SAMPLE('coffee-cup.png')], {
        userId: 3,
        role: 'product',
        isTestData: true,
      });
      const freshBefore = await findChecklist(db(), fresh!);
      const notesBefore = await findChecklist(db(), fixture.ids.notes);
      await page.getByRole('button', { name: 'Requeue 3 item(s)' }).click();
      await page.waitForURL((url) => url.pathname === '/admin/items');
      await expect
        .poll(() => textOf(page, '.flash'))
        .toContain(
          'requeued 2 of 2 selected, skipped 0; 1 confirmed item(s) no longer matched and were left alone',
        );
      expect(await findChecklist(db(), fresh!)).toEqual(freshBefore);
      expect(await findChecklist(db(), fixture.ids.notes)).toEqual(notesBefore);
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'requeue',
        outcome: 'ok',
        parameters: { ids: [fixture.ids.cat, fixture.ids.cup], step: 'callback' },
      });
      // Delete test data: a confirmed id that is not test data of the filter is never deleted.
      await page.goto(`${base}/admin/items/delete-test-data?user_id=3`);
      await expect.poll(() => textOf(page, 'main')).toContain('This will delete 1 test data item(s)');
      const ids = await page.locator('form input[name="ids"]').getAttribute('value');
      expect(ids).toBe(String(fresh));
      const forged = await page.request.post(`${base}/admin/items/delete-test-data`, {
        form: {
          _csrf: await csrfOf(page),
          user_id: '3',
          expected: '2',
          ids: `${fixture.ids.cat},${fixture.ids.xss}`,
        },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(303);
      expect((await findMedia(db(), fixture.ids.cat))!.status).not.toBe('deleted');
      expect((await findMedia(db(), fixture.ids.xss))!.status).not.toBe('deleted');
      expect((await findMedia(db(), fresh!))!.status).not.toBe('deleted');
      expect((await listAudit(db(), { limit: 1 })).entries[0]).toMatchObject({
        action: 'delete-test-data',
        outcome: 'refused',
      });
      await page.getByRole('button', { name: 'Delete 1 item(s)' }).click();
      await page.waitForURL((url) => url.pathname === '/admin/items');
      await expect.poll(() => textOf(page, '.flash')).toContain('deleted 1 test data item(s)');
      expect((await findMedia(db(), fresh!))!.status).toBe('deleted');
    });
  });
});
