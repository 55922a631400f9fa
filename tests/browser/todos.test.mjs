// The showcase's `/todos` page (records in SQLite) in a real headless Chromium:
// what one visitor adds, toggles, renames or deletes shows in another visitor's
// tab through the page's live stream; the filter is each tab's own; a bad title
// is refused with a message, adds nothing and keeps what was typed; a refused
// rename puts the stored title back; a reload shows the stored list.
//
// Run by `examples/showcase/tests/browser.rs`, which serves the showcase and sets
// STARMODEL_BASE_URL. By hand, against a running showcase:
//
//     STARMODEL_BASE_URL=http://127.0.0.1:5001 node --test tests/browser/todos.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BASE_URL, launch, loadLive, log, newTab, screenshot } from './support.mjs';

// How long to wait for a change to show in another tab: long enough that only a
// change that never comes fails, on a loaded 2-core machine (a lost live stream
// retries after 1 s). Speed is measured by the fan-out benchmark, not here.
const LIVE_DEADLINE_MS = 5000;

/** Opens `/todos` in a new tab of `context` and waits for its live stream. */
async function openTodos(context, label) {
  const page = await newTab(context, label);
  await loadLive(page, () => page.goto(`${BASE_URL}/todos`));
  return page;
}

/** The list item whose title input holds `title`. */
function item(page, title) {
  return page.locator('ul.todos li').filter({
    has: page.locator(`input.title[value="${title}"]`),
  });
}

/** The titles the list shows (visible or not), in order. */
async function titles(page) {
  return page.locator('ul.todos li input.title').evaluateAll((els) => els.map((e) => e.value));
}

/** Waits until `check(page)` holds on every page, within the live deadline. */
async function expectEverywhere(pages, what, check) {
  await Promise.all(
    Object.entries(pages).map(async ([label, page]) => {
      const deadline = Date.now() + LIVE_DEADLINE_MS;
      for (;;) {
        if (await check(page)) {
          log(`tab ${label}: ${what}`);
          return;
        }
        if (Date.now() > deadline) {
          assert.fail(`tab ${label}: not ${what} within ${LIVE_DEADLINE_MS} ms; titles: ${JSON.stringify(await titles(page))}`);
        }
        await page.waitForTimeout(50);
      }
    }),
  );
}

async function add(page, title) {
  log(`add ${JSON.stringify(title)}`);
  await page.bringToFront();
  await page.locator('#new-title').fill(title);
  await page.locator('#new-title').press('Enter');
}

describe('/todos in headless Chromium', { timeout: 120_000 }, () => {
  let browser;
  let alice;
  let bob;
  const stamp = Date.now().toString(36);
  const first = `buy milk ${stamp}`;
  const second = `write tests ${stamp}`;

  before(async () => {
    assert.ok(BASE_URL, 'STARMODEL_BASE_URL names the showcase to test');
    browser = await launch();
    // Two browser contexts: two visitors with sessions of their own.
    alice = await openTodos(await browser.newContext(), 'alice');
    bob = await openTodos(await browser.newContext(), 'bob');
  });

  after(async () => {
    if (!browser) return;
    try {
      if (alice && !alice.isClosed()) {
        await screenshot(alice, 'todos');
      }
    } finally {
      await browser.close();
    }
  });

  test('what one visitor adds shows in the other visitor\'s tab', async () => {
    await add(alice, first);
    await add(alice, second);
    await expectEverywhere({ alice, bob }, 'showing both new todos', async (p) => {
      const t = await titles(p);
      return t.includes(first) && t.includes(second);
    });
    assert.equal(await alice.locator('#new-title').inputValue(), '', 'the input is cleared after adding');
  });

  test('a toggle in one tab shows in the other, and each tab filters on its own', async () => {
    await bob.bringToFront();
    await item(bob, first).locator('input[type=checkbox]').check();
    await expectEverywhere({ alice, bob }, `showing "${first}" done`, async (p) =>
      item(p, first).locator('input[type=checkbox]').isChecked(),
    );

    await alice.bringToFront();
    await alice.getByRole('button', { name: 'active', exact: true }).click();
    await expectEverywhere({ alice }, 'hiding the done todo under "active"', async (p) =>
      !(await item(p, first).isVisible()) && (await item(p, second).isVisible()),
    );
    assert.ok(await item(bob, first).isVisible(), 'bob\'s filter is still "all"');
    await alice.getByRole('button', { name: 'all', exact: true }).click();
  });

  test('a rename in one tab shows in the other', async () => {
    const renamed = `${second} (renamed)`;
    await bob.bringToFront();
    const input = item(bob, second).locator('input.title');
    await input.fill(renamed);
    await input.press('Tab'); // `change` fires when the input loses focus
    await expectEverywhere({ alice, bob }, `showing "${renamed}"`, async (p) =>
      (await titles(p)).includes(renamed),
    );
  });

  test('an empty title is refused with a message and adds nothing', async () => {
    const before = await titles(alice);
    await add(alice, '   ');
    const error = alice.locator('#starmodel-error');
    await error.waitFor({ state: 'visible', timeout: LIVE_DEADLINE_MS });
    assert.match(await error.textContent(), /title must not be empty/);
    assert.deepEqual(await titles(alice), before, 'nothing was added');
    assert.equal(await alice.locator('#new-title').inputValue(), '   ', 'a refused add keeps what was typed');
    await error.getByRole('button', { name: 'Dismiss' }).click();
  });

  test('a refused rename puts the stored title back', async () => {
    const [stored] = await titles(bob);
    await bob.bringToFront();
    const input = bob.locator('ul.todos li input.title').first();
    await input.fill('   ');
    await input.press('Tab');
    const error = bob.locator('#starmodel-error');
    await error.waitFor({ state: 'visible', timeout: LIVE_DEADLINE_MS });
    assert.match(await error.textContent(), /title must not be empty/);
    const deadline = Date.now() + LIVE_DEADLINE_MS;
    while ((await input.inputValue()) !== stored && Date.now() < deadline) {
      await bob.waitForTimeout(50);
    }
    assert.equal(await input.inputValue(), stored, 'the input shows the stored title again');
    assert.deepEqual(await titles(alice), await titles(bob), 'both tabs agree');
    await error.getByRole('button', { name: 'Dismiss' }).click();
  });

  test('a delete in one tab shows in the other, and a reload shows what is stored', async () => {
    await alice.bringToFront();
    await item(alice, first).getByRole('button', { name: '×' }).click();
    await expectEverywhere({ alice, bob }, `without "${first}"`, async (p) =>
      !(await titles(p)).includes(first),
    );
    const shown = await titles(bob);
    await loadLive(bob, () => bob.reload());
    assert.deepEqual(await titles(bob), shown, 'the reloaded page shows the stored list');
  });
});
