// ecommpay's Payment Page in payout mode in a real browser: open the signed link, enter a card,
// read the code from the mail sink, confirm, see the result, and find the signed result callback
// in the sandbox's own receiver. Then the page opened from a merchant's page on another origin
// with the widget (EPayWidget.run and bind), on a modal layer, in the whole window by a POSTed
// form, and in the page's element; the link's page never framed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ecommpayRegister, ecommpaySign, launchBrowser, startServer, uniqueOrder } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ configReplace: { 'poll_ms = 1000 ': 'poll_ms = 50 ' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

async function callbacksOf(paymentId, count, srv = server) {
  const deadline = Date.now() + 10000;
  for (;;) {
    // The sandbox's receiver lists a project's callbacks to a request signed with its key.
    const query = new URLSearchParams({
      project_id: '91348', signature: ecommpaySign('sandbox-secret-91348', { project_id: '91348' }),
    });
    const all = await (await fetch(`${srv.url}/sandbox/ecommpay/callbacks?${query}`)).json();
    const mine = all.filter((c) => c.general.payment_id === paymentId);
    if (mine.length >= count || Date.now() > deadline) return mine;
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

// The code of the order's newest mail (its Message-ID names the order).
async function codeFromSink(uuid, srv = server) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const dir = join(srv.dataDir, 'mail');
    let files = [];
    // A message is written under a dot-name, then renamed: read only whole ones.
    try { files = readdirSync(dir).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).sort().reverse(); } catch { /* not yet */ }
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const m = text.match(/Your verification code: (\d{6})/);
      if (m && text.includes(`Message-ID: <${uuid}.`)) return m[1];
    }
    if (Date.now() > deadline) throw new Error('no code in the mail sink');
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

function pageUrl(paymentId, uuid, extra = {}, srv = server) {
  const params = { mode: 'payout', project_id: '91348', payment_id: paymentId, uuid, customer_id: '16061314',
                   customer_email: 'p.jeltz@mail.com', payment_amount: '7000', payment_currency: 'EUR', ...extra };
  params.signature = ecommpaySign('sandbox-secret-91348', params);
  return `${srv.url}/payment?${new URLSearchParams(params)}`;
}

// Registers a payout and opens its page; the registration's callback and the page.
async function openPayout(context, { amount = 7000, link = {}, srv = server } = {}) {
  const paymentId = uniqueOrder('pp');
  assert.equal((await ecommpayRegister(srv.url, paymentId, { amount })).status, 200);
  const [registration] = await callbacksOf(paymentId, 1, srv);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(pageUrl(paymentId, registration.uuid, { payment_amount: String(amount), ...link }, srv));
  return { paymentId, uuid: registration.uuid, page, problems };
}

// Enters a new card and sends the form; the next page has loaded.
async function enterCard(page, pan) {
  await page.type('#pan', pan);
  await page.fill('#cardholder', 'Prostetnik Jeltz');
  await Promise.all([page.waitForURL(/\/payment\/card$/), page.click('#pay')]);
}

// Enters the emailed code; the result page shows how it ended.
async function enterCode(page, uuid, srv = server) {
  await page.fill('#code', await codeFromSink(uuid, srv));
  await Promise.all([page.waitForURL(/\/payment\/result\?/), page.click('#confirm')]);
}

// "29:58" -> 1798.
function seconds(text) {
  const m = text.match(/^(\d+):(\d\d)$/);
  assert.ok(m, `a countdown: ${text}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

// The page's countdown, read twice a little over two seconds apart: it has gone down. The first
// reading.
async function decreasing(page) {
  const first = seconds(await page.textContent('#countdown'));
  await new Promise((ok) => setTimeout(ok, 2200));
  const then = seconds(await page.textContent('#countdown'));
  assert.ok(then < first && then >= first - 4, `${first} then ${then}`);
  return first;
}

describe('ecommpay Payment Page', () => {
  test('a customer receives the payout with the emailed code', async () => {
    const paymentId = uniqueOrder('pp');
    const reg = await ecommpayRegister(server.url, paymentId);
    assert.equal(reg.status, 200);
    const [registration] = await callbacksOf(paymentId, 1);
    assert.equal(registration.payment.status, 'awaiting_payout_completion');
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pageUrl(paymentId, registration.uuid, { payment_description: 'Poetry prize', language_code: 'en' }));
    assert.equal(await page.textContent('#amount'), '70.00 EUR');
    assert.equal(await page.textContent('#description'), 'Poetry prize');
    assert.match(await page.textContent('#countdown'), /^(29|30|28):\d\d$/);
    await page.type('#pan', '4111111111111111');
    await page.fill('#cardholder', 'Prostetnik Jeltz');
    await Promise.all([page.waitForURL(/\/payment\/card$/), page.click('#pay')]);
    assert.match(await page.textContent('#code-sent'), /p\.j\*\*\*@mail\.com/);
    assert.equal(await page.textContent('#masked-pan'), '411111XXXXXX1111');
    const code = await codeFromSink(registration.uuid);
    await page.fill('#code', code);
    await Promise.all([page.waitForURL(/\/payment\/result\?/), page.click('#confirm')]);
    await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
    const [, result] = await callbacksOf(paymentId, 2);
    assert.equal(result.payment.status, 'success');
    assert.equal(ecommpaySign('sandbox-secret-91348', result), result.general.signature);
    assert.ok(requests.every((u) => u.startsWith(server.url)));
    assert.ok(requests.every((u) => !u.includes('4111111111111111')));
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a card saved on one payout is chosen on the next', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pay = async (setup) => {
      const paymentId = uniqueOrder('pp');
      await ecommpayRegister(server.url, paymentId);
      const [registration] = await callbacksOf(paymentId, 1);
      await page.goto(pageUrl(paymentId, registration.uuid, setup.params || {}));
      await setup.choose();
      await Promise.all([page.waitForURL(/\/payment\/card$/), page.click('#pay')]);
      await page.fill('#code', await codeFromSink(registration.uuid));
      await Promise.all([page.waitForURL(/\/payment\/result\?/), page.click('#confirm')]);
      await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
      return (await callbacksOf(paymentId, 2))[1];
    };
    const first = await pay({
      choose: async () => {
        await page.type('#pan', '5555555555554444');
        await page.check('#save');
      },
    });
    const token = first.account.token;
    assert.equal(first.account.number, '555555XXXXXX4444');
    const second = await pay({
      params: { account_token: token },
      choose: async () => {
        assert.ok(await page.isChecked(`input[name=token][value="${token}"]`), 'preselected');
        assert.ok(await page.isEnabled('#pay'), 'a saved card needs no number');
        assert.equal(await page.textContent('.saved-pan'), '555555XXXXXX4444');
      },
    });
    assert.equal(second.account.token, token);
    await context.close();
  });

  test('a wrong code is refused and the payout waits', async () => {
    const paymentId = uniqueOrder('pp');
    await ecommpayRegister(server.url, paymentId);
    const [registration] = await callbacksOf(paymentId, 1);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(pageUrl(paymentId, registration.uuid, { language_code: 'ru' }));
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    await page.type('#pan', '5555555555554444');
    await Promise.all([page.waitForURL(/\/payment\/card$/), page.click('#pay')]);
    const code = await codeFromSink(registration.uuid);
    await page.fill('#code', code === '123456' ? '654321' : '123456');
    await Promise.all([page.waitForURL(/\/payment\/code$/), page.click('#confirm')]);
    assert.equal(await page.textContent('#error'), 'Неверный код');
    assert.equal((await callbacksOf(paymentId, 1)).length, 1, 'no result yet');
    await context.close();
  });

  test('a link with best_before or a bad signature shows an error page', async () => {
    const paymentId = uniqueOrder('pp');
    await ecommpayRegister(server.url, paymentId);
    const [registration] = await callbacksOf(paymentId, 1);
    const context = await browser.newContext();
    const page = await context.newPage();
    let r = await page.goto(pageUrl(paymentId, registration.uuid, { best_before: '2030-01-01T00:00:00+00:00' }));
    assert.equal(r.status(), 400);
    assert.match(await page.textContent('#status'), /best_before/);
    r = await page.goto(pageUrl(paymentId, registration.uuid).replace('signature=', 'signature=AA'));
    assert.equal(r.status(), 403);
    await context.close();
  });

  test('a Visa card issued in Canada asks for the recipient\'s address on an extra page', async () => {
    const context = await browser.newContext();
    const { paymentId, uuid, page, problems } = await openPayout(context, { link: { recipient_city: 'Toronto' } });
    await enterCard(page, '4000000000000127');
    assert.equal(await page.textContent('#location-title'), 'The recipient\'s address');
    assert.equal(await page.textContent('#masked-pan'), '400000XXXXXX0127');
    assert.equal(await page.inputValue('#city'), 'Toronto', 'what the link gave is kept');
    assert.match(await page.textContent('#countdown'), /^\d+:\d\d$/);
    // Canada needs its province.
    await page.fill('#country', 'CA');
    await page.fill('#address', '100 Queen St W');
    await Promise.all([page.waitForURL(/\/payment\/recipient$/), page.click('#continue')]);
    assert.equal(await page.textContent('#error'), 'Enter the state or province code of CA or US');
    assert.equal(await page.inputValue('#address'), '100 Queen St W');
    await page.fill('#state', 'ON');
    await Promise.all([page.waitForURL(/\/payment\/recipient$/), page.click('#continue')]);
    assert.match(await page.textContent('#code-sent'), /p\.j\*\*\*@mail\.com/);
    await enterCode(page, uuid);
    await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
    const [, result] = await callbacksOf(paymentId, 2);
    assert.equal(result.payment.status, 'success');
    assert.equal(ecommpaySign('sandbox-secret-91348', result), result.general.signature);
    assert.deepEqual(problems.filter((m) => !m.includes('status of 422')), [], 'only the refused form');
    await context.close();
  });

  test('a payout over the card\'s single limit is declined with 3104', async () => {
    const context = await browser.newContext();
    const { paymentId, uuid, page } = await openPayout(context, { amount: 500001 });  // > EUR 5 000.00
    assert.equal(await page.textContent('#amount'), '5000.01 EUR');
    await enterCard(page, '4111111111111111');
    await enterCode(page, uuid);
    await page.waitForSelector('#status[data-status="declined"]', { timeout: 15000 });
    const [, result] = await callbacksOf(paymentId, 2);
    assert.equal(result.payment.status, 'decline');
    assert.equal(result.operation.code, '3104');
    await context.close();
  });

  test('an insufficient merchant balance declines with 3028', async () => {
    const poor = await startServer({
      configReplace: {
        'poll_ms = 1000 ': 'poll_ms = 50 ',
        ['sender = "merchant"                  # or "person": persons send its payouts (MoneySend P2P rules)\n' +
          'currency = "EUR"\nmerchant_balance = "1000000.00"']: 'sender = "merchant"\ncurrency = "EUR"\nmerchant_balance = "10.00"',
      },
    });
    try {
      const context = await browser.newContext();
      const { paymentId, uuid, page } = await openPayout(context, { amount: 1001, srv: poor });
      await enterCard(page, '4111111111111111');
      await enterCode(page, uuid, poor);
      await page.waitForSelector('#status[data-status="declined"]', { timeout: 15000 });
      assert.equal(await page.textContent('#status'), 'The payout was declined');
      const [, result] = await callbacksOf(paymentId, 2, poor);
      assert.equal(result.operation.code, '3028');
      await context.close();
    } finally {
      assert.equal(await poor.stop(), 0);
    }
  });

  test('every page of the open form counts down to the same deadline', async () => {
    const context = await browser.newContext();
    const { uuid, page, problems } = await openPayout(context, { link: { language_code: 'en' } });
    const cardLeft = seconds(await page.textContent('#countdown'));
    await enterCard(page, '4111111111111111');
    // The code page: its countdown runs to the deadline the card page showed.
    assert.match(await page.textContent('#code-sent'), /p\.j\*\*\*@mail\.com/);
    const codeLeft = await decreasing(page);
    assert.ok(cardLeft - codeLeft >= 0 && cardLeft - codeLeft <= 5, `${cardLeft} then ${codeLeft}`);
    assert.ok(await page.isHidden('#expired'));
    // The result page of the order still open (the recipient has not confirmed it): the same.
    const result = await context.newPage();
    await result.goto(`${server.url}/payment/result?uuid=${encodeURIComponent(uuid)}&lang=en`);
    assert.equal(await result.getAttribute('#status', 'data-status'), 'registered');
    const resultLeft = await decreasing(result);
    assert.ok(codeLeft - resultLeft >= 0 && codeLeft - resultLeft <= 5, `${codeLeft} then ${resultLeft}`);
    // Once confirmed the session's deadline no longer applies: the page only follows the payout.
    await enterCode(page, uuid);
    await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
    assert.equal(await page.$('#countdown'), null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the code page and the open result page say when the session has ended', async () => {
    const brief = await startServer({
      configReplace: { 'poll_ms = 1000 ': 'poll_ms = 50 ', 'uuid_lifetime_s = 1800': 'uuid_lifetime_s = 8' },
    });
    try {
      const context = await browser.newContext();
      const { uuid, page } = await openPayout(context, { srv: brief, link: { language_code: 'en' } });
      await enterCard(page, '4111111111111111');
      const result = await context.newPage();
      await result.goto(`${brief.url}/payment/result?uuid=${encodeURIComponent(uuid)}&lang=en`);
      assert.equal(await result.getAttribute('#status', 'data-status'), 'registered');
      for (const p of [page, result]) {
        await p.waitForSelector('#expired:not([hidden])', { timeout: 10000 });
        assert.equal(await p.textContent('#countdown'), '0:00');
        assert.equal(await p.textContent('#expired'), 'Payout Session Terminated. UUID Expired');
      }
      assert.ok(await page.isDisabled('#confirm'));
      assert.ok(await page.isDisabled('#code'));
      await context.close();
    } finally {
      assert.equal(await brief.stop(), 0);
    }
  });

  test('a browser in Russian sees the form in Russian without language_code', async () => {
    const context = await browser.newContext({ locale: 'ru-RU' });
    const { uuid, page, problems } = await openPayout(context);
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    assert.equal(await page.textContent('label[for=pan]'), 'Номер карты');
    await enterCard(page, '4111111111111111');
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    assert.equal(await page.textContent('label[for=code]'), 'Проверочный код');
    await enterCode(page, uuid);
    await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
    assert.equal(await page.textContent('#status'), 'Выплата зачислена на карту');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('an expired uuid shows the seed\'s notice and releases the payout with 604', async () => {
    const brief = await startServer({
      configReplace: { 'poll_ms = 1000 ': 'poll_ms = 50 ', 'uuid_lifetime_s = 1800': 'uuid_lifetime_s = 4' },
    });
    try {
      const context = await browser.newContext();
      const { paymentId, uuid, page } = await openPayout(context, { srv: brief });
      await page.type('#pan', '4111111111111111');
      await page.waitForSelector('#expired:not([hidden])', { timeout: 10000 });
      assert.equal(await page.textContent('#countdown'), '0:00');
      assert.equal(await page.textContent('#expired'), 'Payout Session Terminated. UUID Expired');
      assert.ok(await page.isDisabled('#pay'));
      assert.ok(await page.isDisabled('#pan'));
      const [, result] = await callbacksOf(paymentId, 2, brief);
      assert.equal(result.payment.status, 'decline');
      assert.equal(result.operation.code, '604');
      assert.equal(result.operation.message, 'Payout Session Terminated. UUID Expired');
      // Submitting anyway (the form bypassed) moves nothing; the link now says it has ended.
      await page.evaluate(() => {
        for (const el of document.querySelectorAll('input, button')) el.disabled = false;
        document.getElementById('card-form').submit();
      });
      await page.waitForURL(/\/payment\/result\?/);
      assert.equal(await page.getAttribute('#status', 'data-status'), 'expired');
      await new Promise((ok) => setTimeout(ok, 500));
      assert.equal((await callbacksOf(paymentId, 2, brief)).length, 2, 'no other callback');
      await page.goto(pageUrl(paymentId, uuid, {}, brief));
      assert.equal(await page.textContent('#status'), 'Payout Session Terminated. UUID Expired');
      await context.close();
    } finally {
      assert.equal(await brief.stop(), 0);
    }
  });
});

// The seed's example object of the widget call (seed 002): the page's parameters, signed with the
// project's key, with this payout's id and uuid, and `extra` signed with them.
function seedObject(paymentId, uuid, extra = {}) {
  const config = {
    project_id: '91348', payment_id: paymentId, payment_currency: 'EUR', payment_amount: '7000',
    customer_id: '16061314', customer_email: 'p.jeltz@mail.com', mode: 'payout', uuid, ...extra,
  };
  config.signature = ecommpaySign('sandbox-secret-91348', config);
  return config;
}

// A merchant's shop on another origin (another port): each page includes the widget's script and
// stylesheet from payoutd, as ecommpay's documentation says, and its own script (`code`) that
// calls the widget. The shop's Content-Security-Policy allows payoutd only where the widget needs
// it: the script and stylesheet, the frame, the form's target.
async function startShop(payoutd) {
  const pages = new Map();
  const shop = createServer((req, res) => {
    const url = new URL(req.url, 'http://shop');
    const m = url.pathname.match(/^\/shop\/([a-z-]+)(\.js)?$/);
    const code = m && pages.get(m[1]);
    if (!code) { res.writeHead(404).end(); return; }
    if (m[2]) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(code);
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src 'self' ${payoutd}; style-src ${payoutd}; ` +
        `frame-src ${payoutd}; form-action ${payoutd}; base-uri 'none'`,
    }).end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cosmoshop</title>' +
      `<link rel="stylesheet" href="${payoutd}/shared/merchant.css">` +
      `<script src="${payoutd}/shared/merchant.js"></script>` +
      `<script src="/shop/${m[1]}.js" defer></script></head>` +
      '<body><h1>Cosmoshop</h1><button id="pay" type="button">Get your payout</button>' +
      '<div id="payment-widget"></div></body></html>');
  });
  await new Promise((ok) => shop.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${shop.address().port}`;
  return {
    origin,
    // The shop's page `name`, whose script is `code`; its address.
    page(name, code) { pages.set(name, code); return `${origin}/shop/${name}`; },
    close: () => new Promise((ok) => shop.close(ok)),
  };
}

// Registers a payout; its id and uuid.
async function registered() {
  const paymentId = uniqueOrder('pp');
  assert.equal((await ecommpayRegister(server.url, paymentId)).status, 200);
  const [registration] = await callbacksOf(paymentId, 1);
  return { paymentId, uuid: registration.uuid };
}

// The recipient pays out to a new card `pan` in `where` (a page or a frame) and sees the success.
// Each test of the widget pays to a card of its own: the sandbox's limit is 5 credits a card a day,
// and the tests above pay 4111111111111111 more than that.
async function completePayout(where, uuid, pan) {
  await where.waitForSelector('#pan');
  await where.type('#pan', pan);
  await where.fill('#cardholder', 'Prostetnik Jeltz');
  await Promise.all([where.waitForURL(/\/payment\/card$/), where.click('#pay')]);
  await where.fill('#code', await codeFromSink(uuid));
  await Promise.all([where.waitForURL(/\/payment\/result\?/), where.click('#confirm')]);
  await where.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
}

describe('ecommpay Payment Page opened from a merchant\'s page with the widget', () => {
  let shop;
  before(async () => { shop = await startShop(server.url); });
  after(async () => { await shop?.close(); });

  async function open(name, code) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(shop.page(name, code));
    return { context, page, problems };
  }

  test('EPayWidget.run with the seed\'s object opens the page on a modal layer, posted', async () => {
    const { paymentId, uuid } = await registered();
    const { context, page, problems } = await open('modal', `
      const config = ${JSON.stringify(seedObject(paymentId, uuid))};
      config.onExit = () => { document.body.dataset.exited = '1'; };
      document.getElementById('pay').addEventListener('click', () => EPayWidget.run(config, 'POST'));`);
    await page.click('#pay');
    const layer = await page.waitForSelector('.epaywidget-modal');
    assert.ok(await layer.isVisible());
    const frame = await (await page.waitForSelector('.epaywidget-modal iframe')).contentFrame();
    await frame.waitForSelector('#amount');
    assert.equal(new URL(frame.url()).origin, server.url);
    assert.equal(new URL(frame.url()).search, '', 'the parameters went in the form, not the address');
    assert.equal(await frame.textContent('#amount'), '70.00 EUR');
    await completePayout(frame, uuid, '4242424242424242');
    assert.equal(new URL(page.url()).origin, shop.origin, 'the shop stayed where it was');
    const [, result] = await callbacksOf(paymentId, 2);
    assert.equal(result.payment.status, 'success');
    assert.equal(ecommpaySign('sandbox-secret-91348', result), result.general.signature);
    await page.click('.epaywidget-close');
    assert.equal(await page.$('.epaywidget-modal'), null);
    assert.equal(await page.getAttribute('body', 'data-exited'), '1');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('redirect: true sends the whole window to the page by a POSTed form', async () => {
    const { paymentId, uuid } = await registered();
    const config = seedObject(paymentId, uuid, { redirect: true, payment_description: 'Poetry prize' });
    const { context, page, problems } = await open('redirect', `
      const config = ${JSON.stringify(config)};
      document.getElementById('pay').addEventListener('click', () => EPayWidget.run(config, 'post'));`);
    const posted = page.waitForRequest((r) => r.url() === `${server.url}/payment`);
    await Promise.all([page.waitForURL(`${server.url}/payment`), page.click('#pay')]);
    const request = await posted;
    assert.equal(request.method(), 'POST');
    assert.match(request.headers()['content-type'], /^application\/x-www-form-urlencoded/);
    assert.equal(new URLSearchParams(request.postData()).get('signature'), config.signature, 'unchanged');
    assert.equal(await page.textContent('#description'), 'Poetry prize');
    await completePayout(page, uuid, '5555555555554444');
    assert.equal((await callbacksOf(paymentId, 2))[1].payment.status, 'success');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('EPayWidget.bind with target_element opens the page by its link in the shop\'s element', async () => {
    const { paymentId, uuid } = await registered();
    const config = { ...seedObject(paymentId, uuid), target_element: 'payment-widget' };
    const { context, page, problems } = await open('element', `
      EPayWidget.bind('pay', ${JSON.stringify(config)});`);
    await page.click('#pay');
    const frame = await (await page.waitForSelector('#payment-widget > iframe')).contentFrame();
    await frame.waitForSelector('#amount');
    const link = new URL(frame.url());
    assert.equal(link.pathname, '/payment');
    assert.equal(link.searchParams.get('frame_mode'), 'iframe');
    assert.equal(link.searchParams.get('signature'), config.signature);
    assert.equal(link.searchParams.get('target_element'), null, 'the widget\'s own, not sent');
    await completePayout(frame, uuid, '4000000000000119');  // processing, then success
    assert.equal((await callbacksOf(paymentId, 2))[1].payment.status, 'success');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the link\'s page (no frame mode) cannot be framed by the shop', async () => {
    const { paymentId, uuid } = await registered();
    const link = pageUrl(paymentId, uuid);
    const { context, page, problems } = await open('framed-link', `
      const f = document.createElement('iframe');
      f.src = ${JSON.stringify(link)};
      document.getElementById('payment-widget').appendChild(f);`);
    const loaded = await page.waitForSelector('#payment-widget > iframe');
    await new Promise((ok) => setTimeout(ok, 1000));
    const frame = await loaded.contentFrame();
    assert.equal(await frame.$('#card-form'), null, 'the browser refused to show it framed');
    assert.ok(problems.some((m) => /frame-ancestors|X-Frame-Options|refused/i.test(m)), problems.join('\n'));
    // Open on its own, the same link still works.
    const own = await context.newPage();
    await own.goto(link);
    assert.ok(await own.$('#card-form'));
    await context.close();
  });
});
