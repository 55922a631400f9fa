// What the browser tests share: where the showcase and Chromium are, how Chromium
// is started on this machine, the log every test writes to stderr, and where
// screenshots go.

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
