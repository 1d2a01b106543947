// The partner cabinet in a real browser: sign in (and be refused), wrong passwords throttled, a payout made through
// the API appearing in the list, filtering it, exporting the CSV, its detail page, a phone's
// screen, one tenant never reaching another's payout, the tables that fit a desktop's window and
// scroll inside their card on a phone, "My cards" as seed 003 describes it (its dialog, with and
// without scripts, and each card's actions), and the read-only login.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  BEREKE_PASSWORD, BEREKE_USER, bereke, launchBrowser, orderStatus, startServer, uniqueOrder,
} from './harness.mjs';

let server;
let browser;

before(async () => {
  // Each test signs in from 127.0.0.1 in a new browser: more password checks than one address may
  // start in a minute by default (the throttle of wrong passwords is left as it is).
  server = await startServer({ configReplace: { 'checks_per_address_burst = 10': 'checks_per_address_burst = 100' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

async function signIn(page, login, password) {
  await page.goto(`${server.url}/cabinet`);
  assert.match(page.url(), /\/cabinet\/login$/);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
}

// The code of the newest SMS about the card `masked`, from the SMS sink.
async function smsCode(masked) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const dir = join(server.dataDir, 'sms');
    let files = [];
    // A message is written under a dot-name, then renamed: read only whole ones.
    try { files = readdirSync(dir).filter((f) => f.endsWith('.sms') && !f.startsWith('.')).sort().reverse(); } catch { /* not yet */ }
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (text.includes(masked)) return text.match(/: (\d{6})\./)[1];
    }
    if (Date.now() > deadline) throw new Error('no SMS in the sink');
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

// Fills the form of the "Adding a card" dialog.
async function fillCard(page, pan, expiry, holder, phone) {
  await page.fill('#card-pan', pan);
  await page.fill('#card-expiry', expiry);
  await page.fill('#card-holder', holder);
  await page.fill('#card-phone', phone);
}

async function balance(binding) {
  const j = (await bereke(server.url, 'getAmount.do', binding ? { source: { bindingId: binding } } : {})).json;
  return j.balanceDescriptionList.balanceAmount;
}

function watch(page) {
  const problems = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('request', (r) => requests.push(r.url()));
  return { problems, requests };
}

// The cells and buttons of `selector`'s tables that a person cannot reach: each one is checked
// where it is, and, where it is cut off, once more after scrolling it into view. What is cut off by
// an element whose overflow is not visible (or by the window) must, at `scroll` true, be inside a
// container that scrolls sideways and holds the table alone (the table scrolls inside its card,
// the card's heading and buttons stay), and be whole once scrolled to; at `scroll` false nothing
// may be cut off at all. Answers a description of each that is not reachable.
async function unreachable(page, selector, scroll) {
  return page.evaluate(({ selector, scroll }) => {
    // The first box that cuts `el` off sideways: an ancestor that clips, or the window.
    const cutBy = (el) => {
      const r = el.getBoundingClientRect();
      for (let a = el.parentElement; a; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (style.overflowX === 'visible') continue;
        const left = a.getBoundingClientRect().left + a.clientLeft;
        if (r.left < left - 0.5 || r.right > left + a.clientWidth + 0.5) return a;
      }
      return r.left < -0.5 || r.right > document.documentElement.clientWidth + 0.5 ? document.documentElement : null;
    };
    const name = (el) => `${el.closest('table').id} ${el.tagName} "${el.textContent.trim().slice(0, 30)}"`;
    const problems = [];
    const targets = document.querySelectorAll(`${selector} th, ${selector} td, ${selector} button`);
    if (targets.length === 0) problems.push(`no ${selector}`);
    for (const el of targets) {
      const cut = cutBy(el);
      if (!cut) continue;
      if (!scroll) { problems.push(`${name(el)} cut off by ${cut.tagName}.${cut.className}`); continue; }
      const style = getComputedStyle(cut);
      const scrolls = (style.overflowX === 'auto' || style.overflowX === 'scroll') && cut.children.length === 1 &&
        cut.children[0].tagName === 'TABLE';
      if (!scrolls) { problems.push(`${name(el)} cut off by ${cut.tagName}.${cut.className}, which is not the table's scroller`); continue; }
      el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      if (cutBy(el)) problems.push(`${name(el)} is cut off even when scrolled to`);
      cut.scrollLeft = 0;
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth) {
      problems.push(`the page is ${document.documentElement.scrollWidth}px wide`);
    }
    return problems;
  }, { selector, scroll });
}

// The dialog `id`: whether it shows, and whether it is modal (the rest of the page inert).
async function dialogState(page, id) {
  return page.evaluate((id) => {
    const d = document.getElementById(id);
    return { open: !!d && d.open, modal: !!d && d.matches(':modal') };
  }, id);
}

describe('partner cabinet', () => {
  test('a partner signs in, finds a payout made through the API, filters and exports it', async () => {
    const ok = uniqueOrder('cab');
    const declined = uniqueOrder('cab');
    assert.equal((await bereke(server.url, 'performPayout.do',
      { orderNumber: ok, amount: 123456, currency: '398', target: { card: { pan: '4111111111111111' } } })).status, 200);
    assert.equal((await bereke(server.url, 'performPayout.do',
      { orderNumber: declined, amount: 500, currency: '398', target: { card: { pan: '4000000000000002' } } })).status, 200);
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const { problems, requests } = watch(page);
    // A wrong password first.
    await signIn(page, BEREKE_USER, 'not-the-password');
    assert.equal(await page.textContent('#error'), 'Wrong login or password');
    await page.fill('#login', BEREKE_USER);
    await page.fill('#password', BEREKE_PASSWORD);
    await Promise.all([page.waitForURL(/\/cabinet$/), page.click('#sign-in')]);
    assert.match(await page.textContent('#who'), /payout_api_username · bereke:sandbox-partner/);
    assert.match(await page.textContent('tr[data-code="transit"] .balance'), /KZT$/);
    assert.ok(await page.isVisible('#chart rect.success'), 'today has a success bar');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'cabinet_session');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    // The list shows both; a filter keeps the success only.
    await page.click('nav >> text=Payouts');
    await page.waitForURL(/\/cabinet\/payouts$/);
    assert.equal(await page.getAttribute(`tr[data-id="${ok}"]`, 'data-status'), 'success');
    assert.equal(await page.getAttribute(`tr[data-id="${declined}"]`, 'data-status'), 'declined');
    await page.selectOption('#status', 'success');
    await page.fill('#f-min', '1234.56');
    await Promise.all([page.waitForURL(/status=success/), page.click('#apply')]);
    assert.ok(await page.isVisible(`tr[data-id="${ok}"]`));
    assert.equal(await page.locator(`tr[data-id="${declined}"]`).count(), 0);
    // The CSV of what is shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
    assert.equal(download.suggestedFilename(), 'payouts.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, new RegExp(`,card,${ok},1234.56,KZT,success,`));
    assert.ok(!csv.includes(declined));
    // Its detail: masked card, the network's reference and approval.
    await Promise.all([page.waitForURL(/\/cabinet\/payout\?/), page.click(`tr[data-id="${ok}"] a`)]);
    assert.equal(await page.textContent('#masked-pan'), '411111XXXXXX1111');
    assert.match(await page.textContent('#approval'), /^\d{12}$/);
    assert.equal(await page.textContent('#knp'), '710');
    // In Russian.
    await page.click('#lang');
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    assert.equal(await page.textContent('#status'), 'Успешно');
    // Sign out: the cabinet asks to sign in again.
    await Promise.all([page.waitForURL(/\/cabinet\/login$/), page.click('#logout')]);
    await page.goto(`${server.url}/cabinet/payouts`);
    assert.match(page.url(), /\/cabinet\/login$/);
    assert.ok(requests.every((u) => u.startsWith(server.url)), 'only our origin');
    assert.deepEqual(problems.filter((m) => !m.includes('status of 401')), []);
    await context.close();
  });

  test('wrong passwords slow the next attempt down, and the login is never locked', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'merchant-91348', 'wrong-0');
    let waitS = 0;
    for (let i = 1; i < 12 && !waitS; i++) {
      await page.fill('#login', 'merchant-91348');
      await page.fill('#password', `wrong-${i}`);
      await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
      const error = await page.textContent('#error');
      const m = error.match(/Too many wrong passwords: try again in a while \(seconds\): (\d+)/);
      if (m) waitS = Number(m[1]);
      else assert.match(error, /Wrong login or password/);
    }
    assert.ok(waitS > 0, 'the delay is shown');
    assert.match(page.url(), /\/cabinet\/login$/);
    // Once the delay has passed, the right password signs in: nothing was locked.
    await new Promise((ok) => setTimeout(ok, waitS * 1000 + 200));
    await page.fill('#login', 'merchant-91348');
    await page.fill('#password', 'sandbox-cabinet-91348');
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    assert.match(page.url(), /\/cabinet$/);
    await context.close();
  });

  test('on a phone the pages fit the screen', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const page = await context.newPage();
    await signIn(page, 'best-partner-admin', 'sandbox-cabinet-best-partner');
    for (const path of ['/cabinet', '/cabinet/payouts', '/cabinet/statements', '/cabinet/audit']) {
      await page.goto(`${server.url}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `${path} is ${width}px wide`);
    }
    await context.close();
  });

  test('a tenant cannot open another tenant\'s payout', async () => {
    const orderNumber = uniqueOrder('cab');
    await bereke(server.url, 'performPayout.do',
      { orderNumber, amount: 700, currency: '398', target: { card: { pan: '4111111111111111' } } });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'best-partner-admin', 'sandbox-cabinet-best-partner');
    const r = await page.goto(`${server.url}/cabinet/payout?kind=card&id=${orderNumber}`);
    assert.equal(r.status(), 404);
    await page.goto(`${server.url}/cabinet/payouts`);
    assert.equal(await page.locator(`tr[data-id="${orderNumber}"]`).count(), 0);
    await context.close();
  });

  test('a partner adds a corporate card with the SMS code, pays from it, changes KNP, deletes it', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    const { problems } = watch(page);
    await signIn(page, BEREKE_USER, BEREKE_PASSWORD);
    await Promise.all([page.waitForURL(/\/cabinet\/cards$/), page.click('nav >> text=My cards')]);
    await page.click('#add-card-open');
    await fillCard(page, '4111 1111 1111 1111', '11/33', 'Aigerim Nurlanova', '+77017654321');
    await Promise.all([page.waitForURL(/\/cabinet\/cards\/add$/), page.click('#save-card')]);
    assert.match(await page.textContent('#sms-sent'), /\+7701\*\*\*4321 \(411111XXXXXX1111\)/);
    await page.fill('#sms-code', await smsCode('411111XXXXXX1111'));
    await Promise.all([page.waitForURL(/\/cabinet\/cards\?added=/), page.click('#confirm')]);
    const binding = new URL(page.url()).searchParams.get('added');
    const row = page.locator(`tr[data-binding="${binding}"]`);
    assert.match(await row.textContent(), /411111XXXXXX1111.*AIGERIM NURLANOVA.*11\/33/);
    // Copy its binding ID, and pay out from it with performPayout.do.
    await row.locator('button.copy').click();
    await page.waitForSelector(`tr[data-binding="${binding}"] button.copy[data-copied="1"]`);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, binding);
    const before = await balance(copied);
    const paid = uniqueOrder('corp');
    const r = await bereke(server.url, 'performPayout.do', {
      orderNumber: paid, amount: 4200, currency: '398', source: { bindingId: copied },
      target: { card: { pan: '5555555555554444' } },
    });
    assert.equal(r.json.orderStatus, '2');
    assert.equal(await balance(copied), before - 4200);
    // Make it primary: payouts without a source come from it.
    await Promise.all([page.waitForURL(/done=primary/), row.locator('button.primary').click()]);
    assert.equal(await page.getAttribute(`tr[data-binding="${binding}"]`, 'data-primary'), '1');
    // Change KNP, and see it on the next payout.
    await Promise.all([page.waitForURL(/\/cabinet\/knp$/), page.click('nav >> text=KNP value')]);
    await page.selectOption('#knp', '119');
    await Promise.all([page.waitForURL(/saved=1/), page.click('#save-knp')]);
    assert.equal(await page.textContent('#knp-current'), '119');
    const next = uniqueOrder('corp');
    await bereke(server.url, 'performPayout.do',
      { orderNumber: next, amount: 300, currency: '398', target: { card: { pan: '4111111111111111' } } });
    assert.equal((await orderStatus(server.url, next)).source.bindingId, binding);
    await page.goto(`${server.url}/cabinet/payout?kind=card&id=${next}`);
    assert.equal(await page.textContent('#knp'), '119');
    // Delete the card: it is gone from the list and funds nothing.
    await page.goto(`${server.url}/cabinet/cards`);
    await Promise.all([page.waitForURL(/done=removed/), page.locator(`tr[data-binding="${binding}"] button.delete`).click()]);
    assert.equal(await page.locator(`tr[data-binding="${binding}"]`).count(), 0);
    const refused = await bereke(server.url, 'performPayout.do', {
      orderNumber: uniqueOrder('corp'), amount: 100, currency: '398', source: { bindingId: binding },
      target: { card: { pan: '4111111111111111' } },
    });
    assert.notEqual(refused.json.orderStatus, '2');
    // Back to KNP 710 for the other tests.
    await page.goto(`${server.url}/cabinet/knp`);
    await page.selectOption('#knp', '710');
    await Promise.all([page.waitForURL(/saved=1/), page.click('#save-knp')]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the balances and the cards fit a 1280 px window and scroll inside their card at 375 px', async () => {
    for (const width of [1280, 375]) {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      await signIn(page, BEREKE_USER, BEREKE_PASSWORD);
      for (const lang of ['en', 'ru']) {
        await page.goto(`${server.url}/cabinet?lang=${lang}`);
        assert.deepEqual(await unreachable(page, '#balances', width < 1280), [], `${width}px ${lang}: balances`);
        await page.goto(`${server.url}/cabinet/cards?lang=${lang}`);
        // The sandbox's card is not the primary one: its row has all three actions.
        assert.equal(await page.locator('#cards tbody tr').first().locator('button').count(), 3);
        assert.deepEqual(await unreachable(page, '#cards', width < 1280), [], `${width}px ${lang}: cards`);
        assert.ok(await page.isVisible('#add-card-open'), 'Add a card');
      }
      await context.close();
    }
  });

  test('"Add a card" opens the "Adding a card" dialog, whose card is added; each card has the seed\'s three actions', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    const { problems } = watch(page);
    await signIn(page, BEREKE_USER, BEREKE_PASSWORD);
    await page.goto(`${server.url}/cabinet/cards?lang=ru`);
    // Seed 003's words on the Russian page.
    assert.equal(await page.textContent('#add-card-open'), 'Добавить карту');
    assert.deepEqual(await dialogState(page, 'add-card-dialog'), { open: false, modal: false });
    assert.equal(await page.isVisible('#card-pan'), false);
    await page.click('#add-card-open');
    assert.match(page.url(), /\/cabinet\/cards\?lang=ru$/, 'the dialog opened on the page');
    assert.deepEqual(await dialogState(page, 'add-card-dialog'), { open: true, modal: true });
    assert.equal(await page.textContent('#add-card-title'), 'Добавление карты');
    // Cancel closes it; a refused card opens it again, with the reason in it.
    await page.click('#add-card-cancel');
    assert.deepEqual(await dialogState(page, 'add-card-dialog'), { open: false, modal: false });
    await page.click('#add-card-open');
    await page.fill('#card-pan', '4111 1111 1111 1112');
    await Promise.all([page.waitForURL(/\/cabinet\/cards\/add$/), page.click('#save-card')]);
    assert.deepEqual(await dialogState(page, 'add-card-dialog'), { open: true, modal: true });
    assert.equal(await page.textContent('#add-card-dialog #error'), 'Проверьте номер карты');
    await fillCard(page, '4111 1111 1111 1111', '10/34', 'Dana Seitkali', '+77015550101');
    await Promise.all([page.waitForURL(/\/cabinet\/cards\/add$/), page.click('#save-card')]);
    // The SMS code's window, over the list.
    assert.deepEqual(await dialogState(page, 'card-code-dialog'), { open: true, modal: true });
    assert.match(await page.textContent('#sms-sent'), /\+7701\*\*\*0101 \(411111XXXXXX1111\)/);
    await page.fill('#sms-code', await smsCode('+77015550101'));
    await Promise.all([page.waitForURL(/\/cabinet\/cards\?added=/), page.click('#confirm')]);
    const binding = new URL(page.url()).searchParams.get('added');
    const row = page.locator(`tr[data-binding="${binding}"]`);
    assert.match(await row.textContent(), /411111XXXXXX1111.*DANA SEITKALI.*10\/34/);
    assert.deepEqual(await row.locator('button').allTextContents(),
      ['Сделать карту основной', 'Копировать ID связки', 'Удалить карту']);
    // Copy the binding ID: it is on the clipboard.
    await page.evaluate(() => navigator.clipboard.writeText('something else'));
    await row.locator('button.copy').click();
    await page.waitForSelector(`tr[data-binding="${binding}"] button.copy[data-copied="1"]`);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), binding);
    // In English, faithfully.
    await page.goto(`${server.url}/cabinet/cards?lang=en`);
    assert.equal(await page.textContent('#add-card-open'), 'Add a card');
    assert.equal(await page.textContent('#add-card-title'), 'Adding a card');
    assert.deepEqual(await row.locator('button').allTextContents(),
      ['Make the card primary', 'Copy the binding ID', 'Delete the card']);
    await Promise.all([page.waitForURL(/done=removed/), row.locator('button.delete').click()]);
    assert.equal(await row.count(), 0);
    assert.deepEqual(problems.filter((m) => !m.includes('status of 422')), []);
    await context.close();
  });

  test('without scripts "Add a card" opens the same dialog from the server, and the card is added', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, BEREKE_USER, BEREKE_PASSWORD);
    await page.goto(`${server.url}/cabinet/cards`);
    assert.equal(await page.isVisible('#card-pan'), false);
    await Promise.all([page.waitForURL(/\/cabinet\/cards\?add=1$/), page.click('#add-card-open')]);
    assert.equal((await dialogState(page, 'add-card-dialog')).open, true);
    await fillCard(page, '5555 5555 5555 4444', '08/35', 'Arman Bekov', '+77015550202');
    await Promise.all([page.waitForURL(/\/cabinet\/cards\/add$/), page.click('#save-card')]);
    // The sandbox's own card has this number already: the dialog says so.
    assert.equal((await dialogState(page, 'add-card-dialog')).open, true);
    assert.equal(await page.textContent('#add-card-dialog #error'), 'This card is already among your cards');
    await fillCard(page, '4111 1111 1111 1111', '08/35', 'Arman Bekov', '+77015550202');
    await Promise.all([page.waitForURL(/\/cabinet\/cards\/add$/), page.click('#save-card')]);
    assert.equal((await dialogState(page, 'card-code-dialog')).open, true);
    await page.fill('#sms-code', await smsCode('+77015550202'));
    await Promise.all([page.waitForURL(/\/cabinet\/cards\?added=/), page.click('#confirm')]);
    const binding = new URL(page.url()).searchParams.get('added');
    await Promise.all([page.waitForURL(/done=removed/), page.locator(`tr[data-binding="${binding}"] button.delete`).click()]);
    await context.close();
  });

  test('the read-only login sees balances and payouts, and neither cards nor KNP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'bereke-viewer', 'sandbox-cabinet-viewer');
    assert.match(await page.textContent('#who'), /bereke-viewer · bereke:sandbox-partner/);
    assert.match(await page.textContent('tr[data-code="transit"] .balance'), /KZT$/);
    assert.deepEqual(await page.locator('nav a').allTextContents(), ['Overview', 'Payouts', 'Statements', 'Audit log']);
    for (const path of ['/cabinet/cards', '/cabinet/knp']) {
      const r = await page.goto(`${server.url}${path}`);
      assert.equal(r.status(), 403);
      assert.match(await page.textContent('h1'), /no right to do this/);
      assert.equal(await page.locator('form[action^="/cabinet/cards"], form[action="/cabinet/knp"]').count(), 0);
    }
    await page.goto(`${server.url}/cabinet/audit`);
    assert.match(await page.textContent('#audit'), /denied\s*GET \/cabinet\/knp \(needs settings\)/);
    await context.close();
  });
});
