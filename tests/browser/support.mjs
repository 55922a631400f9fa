// What the browser tests share: where the showcase and Chromium are, how Chromium
// is started on this machine, the log every test writes to stderr, and where
// screenshots go.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const BASE_URL = process.env.STARMODEL_BASE_URL;
export const STREAM_PATH = '/_starmodel/stream';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? resolve(process.env.CARGO_TARGET_DIR)
  : join(REPO_ROOT, 'target');

const START = Date.now();

/** Writes `line` to stderr, stamped with the milliseconds since the test began. */
export const log = (line) => {
  const ms = String(Date.now() - START).padStart(6);
  process.stderr.write(`+${ms}ms ${line}\n`);
};

/** Starts headless Chromium with the flags this machine needs. */
export async function launch() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  log(`browser: ${CHROMIUM} ${browser.version()}; showcase: ${BASE_URL}`);
  return browser;
}

/** Saves a full-page screenshot of `page` as `target/browser/<name>.png`. */
export async function screenshot(page, name) {
  const dir = join(TARGET_DIR, 'browser');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot: ${path}`);
}

/**
 * A new tab of `context` whose console messages, page errors, failed requests
 * and Datastar requests (the live stream, the events) are logged as `[label]`,
 * to diagnose a failure from the log alone.
 */
export async function newTab(context, label) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    const at = m.location()?.url;
    log(`[${label}] console.${m.type()}: ${m.text()}${at ? ` (${at})` : ''}`);
  });
  page.on('pageerror', (e) => log(`[${label}] page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A reload or a closing tab aborts the open stream; that is expected.
    log(`[${label}] request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    const request = r.request();
    if (request.resourceType() === 'fetch' || !r.ok()) {
      const url = new URL(r.url());
      const query = url.search.length > 60 ? '?…' : url.search;
      log(`[${label}] ${request.method()} ${url.pathname}${query} -> ${r.status()}`);
    }
  });
  return page;
}

/**
 * Runs `navigate` and waits until the page's live stream has answered, so the
 * server knows the tab before the test changes anything. Returns the page's
 * HTML response, which must be a success.
 */
export async function loadLive(page, navigate) {
  const stream = page.waitForResponse(
    (r) => new URL(r.url()).pathname.endsWith(STREAM_PATH) && r.ok(),
  );
  const response = await navigate();
  assert.ok(response?.ok(), `GET ${page.url()} answered ${response?.status()}`);
  await stream;
  return response;
}
