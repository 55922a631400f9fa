// The showcase's `/counter` page in a real headless Chromium: clicks in one tab
// reach the other tabs of the same session (session counter) and of every session
// (global counter) through the page's live stream.
//
// Run by `examples/showcase/tests/browser.rs`, which serves the showcase and sets
// STARMODEL_BASE_URL. By hand, against a running showcase:
//
//     STARMODEL_BASE_URL=http://127.0.0.1:5001 node --test tests/browser/counter.test.mjs
//
// Browser console messages, page errors and the live stream's network activity
// are written to stderr, to diagnose a failure from the log alone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BASE_URL, launch, loadLive, log, newTab, screenshot } from './support.mjs';

// How long to wait for a change to show in another tab: long enough that only a
// change that never comes fails, on a loaded 2-core machine (a lost live stream
// retries after 1 s). Speed is measured by the fan-out benchmark, not here.
const LIVE_DEADLINE_MS = 5000;

const SESSION = '#session-counter';
const GLOBAL = '#global-counter';

/** Opens `/counter` in a new tab of `context`, labelled `label` in the log. */
async function openCounter(context, label) {
  const page = await newTab(context, label);
  await loadLive(page, () => page.goto(`${BASE_URL}/counter`));
  return page;
}

/** The number a counter card shows. */
async function shown(page, card) {
  const text = await page.locator(`${card} .count`).textContent();
  const value = Number.parseInt(text.trim(), 10);
  assert.ok(Number.isSafeInteger(value), `${card} .count shows ${JSON.stringify(text)}`);
  return value;
}

/**
 * Clicks the button labelled exactly `label` in a counter card, in front as a
 * person would: Chromium throttles animation frames in a tab behind another,
 * which makes Playwright's actionability checks take seconds there.
 */
async function click(page, card, label) {
  log(`click ${card} ${label}`);
  await page.bringToFront();
  await page.locator(card).getByRole('button', { name: label, exact: true }).click();
  log(`clicked ${card} ${label}`);
}

/** Fails unless every page shows `expected` in `card` within the live deadline. */
async function expectShown(pages, card, expected, what) {
  await Promise.all(
    Object.entries(pages).map(async ([label, page]) => {
      try {
        await page.waitForFunction(
          ([selector, want]) => document.querySelector(selector)?.textContent.trim() === want,
          [`${card} .count`, String(expected)],
          { timeout: LIVE_DEADLINE_MS, polling: 50 },
        );
        log(`tab ${label} shows ${expected} in ${card}`);
      } catch (e) {
        if (e?.name !== 'TimeoutError') throw e;
        const actual = await page.locator(`${card} .count`).textContent();
        assert.fail(
          `${what}: tab ${label} shows ${actual?.trim()} in ${card}, ` +
            `expected ${expected} within ${LIVE_DEADLINE_MS} ms`,
        );
      }
    }),
  );
}

/** The value the server rendered into `card` of a `/counter` HTML page. */
function rendered(html, cardId) {
  const m = new RegExp(`id="${cardId}".*?class="count"[^>]*>(-?\\d+)<`, 's').exec(html);
  assert.ok(m, `no #${cardId} .count in the page's HTML`);
  return Number.parseInt(m[1], 10);
}

describe('/counter in headless Chromium', { timeout: 120_000 }, () => {
  let browser;
  let one; // the first browser context: one session
  let two; // a second context: another session
  let tabA;
  let tabB;
  let tabC; // in `two`

  before(async () => {
    assert.ok(BASE_URL, 'STARMODEL_BASE_URL names the showcase to test');
    browser = await launch();
    one = await browser.newContext();
    tabA = await openCounter(one, 'A');
    tabB = await openCounter(one, 'B');
  });

  after(async () => {
    if (!browser) return;
    try {
      const page = tabA ?? tabB;
      if (page && !page.isClosed()) {
        await screenshot(page, 'counter');
      }
    } finally {
      await browser.close();
    }
  });

  test('headless background tabs count as visible', async (t) => {
    // Datastar closes a hidden tab's stream (`document.hidden`) and reopens it when
    // the tab shows again; the tests click in the front tab and rely on the tab
    // behind it staying connected.
    const state = (page) => page.evaluate(() => document.visibilityState);
    const states = {};
    await tabA.bringToFront();
    states['B behind A'] = await state(tabB);
    await tabB.bringToFront();
    states['A behind B'] = await state(tabA);
    const line = Object.entries(states).map(([k, v]) => `${k}: ${v}`).join(', ');
    t.diagnostic(`visibilityState: ${line}`);
    assert.deepEqual(states, { 'B behind A': 'visible', 'A behind B': 'visible' });
  });

  test('a click in one tab shows in the other tab of the session', async () => {
    const tabs = { A: tabA, B: tabB };
    const s0 = await shown(tabA, SESSION);
    assert.equal(await shown(tabB, SESSION), s0, 'both tabs start with the same session value');
    await click(tabA, SESSION, '+1');
    await expectShown(tabs, SESSION, s0 + 1, 'session +1 in tab A');

    const g0 = await shown(tabA, GLOBAL);
    await click(tabA, GLOBAL, '+1');
    await expectShown(tabs, GLOBAL, g0 + 1, 'global +1 in tab A');
  });

  test('-1, +10 and Reset reach every tab of the session', async () => {
    const tabs = { A: tabA, B: tabB };
    const s0 = await shown(tabB, SESSION);
    await click(tabB, SESSION, '-1');
    await expectShown(tabs, SESSION, s0 - 1, 'session -1 in tab B');
    await click(tabA, SESSION, '+10');
    await expectShown(tabs, SESSION, s0 + 9, 'session +10 in tab A');
    await click(tabB, SESSION, 'Reset');
    await expectShown(tabs, SESSION, 0, 'session Reset in tab B');
    await tabB
      .locator('#session-status', { hasText: 'Reset.' })
      .waitFor({ timeout: LIVE_DEADLINE_MS });

    const g0 = await shown(tabA, GLOBAL);
    await click(tabB, GLOBAL, '-1');
    await expectShown(tabs, GLOBAL, g0 - 1, 'global -1 in tab B');
  });

  test('a reloaded tab keeps the session value and stays live', async () => {
    const tabs = { A: tabA, B: tabB };
    const s0 = await shown(tabA, SESSION);
    await click(tabA, SESSION, '+10');
    await click(tabA, SESSION, '+1');
    await expectShown(tabs, SESSION, s0 + 11, 'session +10 +1 in tab A');

    const response = await loadLive(tabB, () => tabB.reload());
    assert.equal(
      rendered(await response.text(), 'session-counter'),
      s0 + 11,
      'the server renders the session value into the reloaded page',
    );
    assert.equal(await shown(tabB, SESSION), s0 + 11, 'the reloaded tab B shows the session value');

    await click(tabA, SESSION, '+1');
    await expectShown(tabs, SESSION, s0 + 12, 'session +1 in tab A after tab B reloaded');
  });

  test('another session has its own session counter and shares the global one', async () => {
    const mine = await shown(tabA, SESSION);
    assert.notEqual(mine, 0, 'the first session has a non-zero value to tell the sessions apart');
    two = await browser.newContext();
    tabC = await openCounter(two, 'C');
    assert.equal(await shown(tabC, SESSION), 0, 'a new session starts at 0');
    assert.equal(
      await shown(tabC, GLOBAL),
      await shown(tabA, GLOBAL),
      'both sessions see one global value',
    );

    const all = { A: tabA, B: tabB, C: tabC };
    const g0 = await shown(tabC, GLOBAL);
    await click(tabC, GLOBAL, '+10');
    await expectShown(all, GLOBAL, g0 + 10, 'global +10 in the second session');

    await click(tabC, SESSION, '+1');
    await expectShown({ C: tabC }, SESSION, 1, 'session +1 in the second session');
    // Give a wrongly broadcast session change time to arrive before looking.
    await tabA.waitForTimeout(300);
    assert.equal(await shown(tabA, SESSION), mine, 'the second session leaves the first one alone');
    assert.equal(await shown(tabB, SESSION), mine, 'the second session leaves the first one alone');
  });

  test('Reset of the global counter reaches every tab of every session', async () => {
    assert.ok(tabC, 'the second session is open');
    const all = { A: tabA, B: tabB, C: tabC };
    if ((await shown(tabA, GLOBAL)) === 0) {
      await click(tabA, GLOBAL, '+1');
      await expectShown(all, GLOBAL, 1, 'global +1 before Reset');
    }
    await click(tabA, GLOBAL, 'Reset');
    await expectShown(all, GLOBAL, 0, 'global Reset in tab A');
    await tabA
      .locator('#global-status', { hasText: 'Reset.' })
      .waitFor({ timeout: LIVE_DEADLINE_MS });
  });

  test('a failed event shows its message on the page and changes nothing', async () => {
    const s0 = await shown(tabA, SESSION);
    await tabA.bringToFront();
    // A button whose action sends a mistyped parameter, as a buggy view would.
    const mount = new URL(BASE_URL).pathname.replace(/\/$/, '');
    await tabA.evaluate((mount) => {
      const b = document.createElement('button');
      b.id = 'bad-event';
      b.textContent = 'bad';
      b.setAttribute('data-on:click', `@post('${mount}/counter/increment?amount=lots')`);
      document.querySelector('main').append(b);
    }, mount);
    await tabA.locator('#bad-event').click();
    const error = tabA.locator('#starmodel-error');
    await error.waitFor({ state: 'visible', timeout: LIVE_DEADLINE_MS });
    const message = await error.textContent();
    assert.match(message, /invalid value for parameter `amount`/);
    assert.equal(await error.getAttribute('data-status'), '422');
    assert.equal(await shown(tabA, SESSION), s0, 'the failed event changed nothing');
    // A later success does not hide the earlier error: it stays until dismissed.
    await click(tabA, SESSION, '+1');
    await expectShown({ A: tabA }, SESSION, s0 + 1, 'session +1 after the error');
    assert.ok(await error.isVisible(), 'the error is still shown after a later success');
    await error.getByRole('button', { name: 'Dismiss' }).click();
    await error.waitFor({ state: 'hidden', timeout: LIVE_DEADLINE_MS });

    // Undismissed, an error goes away by itself (here after 300 ms). It may be
    // shown and gone between two polls, so the page records that it was shown.
    await tabA.evaluate(() => {
      const box = document.getElementById('starmodel-error');
      box.dataset.hideAfter = '300';
      window.starmodelErrorShown = false;
      new MutationObserver(() => {
        if (!box.hidden) window.starmodelErrorShown = true;
      }).observe(box, { attributes: true, childList: true });
    });
    await tabA.locator('#bad-event').click();
    await tabA.waitForFunction(() => window.starmodelErrorShown, null, { timeout: LIVE_DEADLINE_MS });
    await error.waitFor({ state: 'hidden', timeout: LIVE_DEADLINE_MS });
    // Escape dismisses it too.
    await tabA.evaluate(() => {
      delete document.getElementById('starmodel-error').dataset.hideAfter;
    });
    await tabA.locator('#bad-event').click();
    await error.waitFor({ state: 'visible', timeout: LIVE_DEADLINE_MS });
    await tabA.keyboard.press('Escape');
    await error.waitFor({ state: 'hidden', timeout: LIVE_DEADLINE_MS });
  });
});
