// The showcase mounted under `/app` of a larger site (`examples/showcase/tests/browser.rs`
// serves it so, with the site's own page at `/`): links, the layout's stylesheet
// and the live stream carry the prefix; a click in one tab shows in another.
// The counter and todo suites also run against this mount (STARMODEL_BASE_URL
// ends in `/app` then); this file checks what only a mount has.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BASE_URL, launch, loadLive, log, newTab, screenshot } from './support.mjs';

const SITE = new URL(BASE_URL).origin;

describe('the showcase under /app', { timeout: 60_000 }, () => {
  let browser;
  let context;

  before(async () => {
    assert.ok(BASE_URL.endsWith('/app'), `STARMODEL_BASE_URL (${BASE_URL}) is the /app mount`);
    browser = await launch();
    context = await browser.newContext();
  });

  after(async () => {
    await browser?.close();
  });

  test('the site keeps its own root; the mount serves its pages, styles and links', async () => {
    const page = await newTab(context, 'site');
    const root = await page.goto(`${SITE}/`);
    assert.equal(root.status(), 200);
    assert.equal((await page.textContent('body')).trim(), 'the rest of the site');

    await loadLive(page, () => page.goto(`${BASE_URL}/`));
    const stylesheets = await page.$$eval('link[rel=stylesheet]', (ls) => ls.map((l) => l.getAttribute('href')));
    log(`stylesheets: ${JSON.stringify(stylesheets)}`);
    assert.ok(
      stylesheets.some((h) => /^\/app\/static\/style\.[0-9a-f]{8}\.css$/.test(h)),
      `the layout links the hashed stylesheet under /app: ${JSON.stringify(stylesheets)}`,
    );
    const links = await page.$$eval('main a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['/app/counter', '/app/todos']);

    await page.click('text=Todos');
    await page.waitForURL(`${BASE_URL}/todos`);
    // A rule of the showcase's own stylesheet (not StarModel's shell) applies.
    const listStyle = await page.$eval('ul.todos', (ul) => getComputedStyle(ul).listStyleType);
    assert.equal(listStyle, 'none', "the layout's stylesheet is applied");
    await screenshot(page, 'prefix-todos');
  });
});
