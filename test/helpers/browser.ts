/**
 * Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by
 * playwright-core: nothing is downloaded. Under CI=true a missing browser
 * fails the suite instead of skipping it. Screenshots go to
 * var/test-output/<suite>/ (ignored by git, kept after the run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** True when the browser tests must skip (no Chromium, outside CI); under CI=true a missing Chromium throws. */
export function chromiumMissing(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return false;
  if (process.env.CI === 'true')
    throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs Debian's chromium package`);
  return true;
}

/** The flags this machine needs: no sandbox as root, and no background traffic to a closed network. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

export function screenshotDir(suite: string): string {
  const dir = path.join('var', 'test-output', suite);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Saves a full-page screenshot as <dir>/<name>.png and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Logs in through the form, as a person would; ends on the page login sends the browser to. */
export async function logIn(page: Page, base: string, key: string, next = '/admin'): Promise<void> {
  await page.goto(`${base}/admin/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Admin or read-only key').fill(key);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/admin/login'));
}

/** Every error the page's scripts raised and every CSP violation the browser reported, collected. */
export function collectPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return problems;
}
