/**
 * The items the Items, Item and Failures browser tests look at, processed by
 * the real pipeline: two production images and a test-data one that
 * complete; a text file named .jpg and one named like an XSS payload that
 * fail INVALID_INPUT (the latter, an SVG inside, is test data); an image whose source file
 * was missing while it was processed (GONE), kept aside to be put back
 * before a requeue makes it complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ingestFiles } from '../../src/intake/ingest-files.js';
import { collectPageProblems, logIn } from '../helpers/browser.js';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard-server.js';
import { SAMPLE } from '../helpers/image-fixtures.js';
import { makeWorker } from '../helpers/in-process-worker.js';
import { withPipeline } from '../helpers/pipeline.js';

export const XSS_NAME = '<img src=x onerror=alert(1)>.jpg';

export interface ItemsFixture {
  server: DashboardServer;
  ids: { cat: number; cup: number; hubble: number; notes: number; xss: number; missing: number };
  /** Puts the missing item's source file back (it is then re-processable). */
  restoreMissing(): void;
  /** Runs a real worker loop until nothing is due (once: true). */
  process(): Promise<void>;
  cleanup(): void;
}

export async function startItemsFixture(env: Record<string, string> = {}): Promise<ItemsFixture> {
  fs.mkdirSync(path.join(process.cwd(), 'var'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(process.cwd(), 'var', 'dashboard-items-'));
  const notes = path.join(dir, 'notes.jpg');
  const xss = path.join(dir, XSS_NAME);
  const missing = path.join(dir, 'gone-for-a-while.png');
  fs.writeFileSync(notes, 'this is text pretending to be a JPEG\n');
  // Markup inside too: refused as SVG, a group of its own on the Failures page.
  fs.writeFileSync(xss, '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(2)"></svg>\n');
  fs.copyFileSync(SAMPLE('coffee-cup.png'), missing);
  const ids = {} as ItemsFixture['ids'];
  const server = await startDashboardServer({
    env,
    prepare: async ({ t, config, store }) => {
      const ingest = async (file: string, userId: number, isTestData: boolean) =>
        (await ingestFiles(t.db, [file], { userId, role: 'product', isTestData }))[0]!;
      ids.cat = await ingest(SAMPLE('cat-chelsea.png'), 3, false);
      ids.cup = await ingest(SAMPLE('coffee-cup.png'), 3, false);
      ids.hubble = await ingest(SAMPLE('hubble-deep-field.jpg'), 9, true);
      ids.notes = await ingest(notes, 3, false);
      ids.xss = await ingest(xss, 5, true);
      ids.missing = await ingest(missing, 7, false);
      fs.renameSync(missing, `${missing}.aside`);
      await withPipeline(config, t.db, store, (steps) => makeWorker(t.db, steps).run());
    },
  });
  return {
    server,
    ids,
    restoreMissing: () => fs.renameSync(`${missing}.aside`, missing),
    process: () =>
      withPipeline(server.config, server.t.db, server.store, (steps) => makeWorker(server.t.db, steps).run()),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A logged-in page for `key`; fails the test when a script error, a CSP
 * violation or a dialog (alert) happened on it.
 */
export async function withPage<T>(
  browser: Browser,
  base: string,
  key: string,
  work: (page: Page, context: BrowserContext) => Promise<T>,
  viewport = { width: 1280, height: 900 },
): Promise<T> {
  const context = await browser.newContext({ viewport });
  const dialogs: string[] = [];
  try {
    const page = await context.newPage();
    const problems = collectPageProblems(page);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await logIn(page, base, key);
    const result = await work(page, context);
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    return result;
  } finally {
    await context.close();
  }
}

/** An element's text with its whitespace collapsed, as a reader sees it. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The session cookie header of a browser context, for fetch. */
export async function cookieHeader(context: BrowserContext): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

/** The page's CSRF token (every page's logout form carries it). */
export async function csrfOf(page: Page): Promise<string> {
  return (await page.locator('input[name="_csrf"]').first().getAttribute('value'))!;
}
