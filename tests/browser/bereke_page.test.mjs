// The Bereke hosted card page (registerPayout.do's formUrl) in a real browser: success card,
// declined card, expired session, invalid card numbers, languages, the client's saved cards
// chosen or a new card typed beside them, and what the page must never
// do (leak the card number into a URL, load anything from elsewhere, run inline script).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { bereke, launchBrowser, orderStatus, startServer, uniqueOrder, waitForStatus } from './harness.mjs';

const RETURN_URL = 'https://partner.example/return?result=ok';
// The sandbox's client with a saved card (config/sandbox.toml, recipient_bindings).
const SANDBOX_CLIENT = '12345abc-d67e-8901-23fg-h45i67jk8901';
const SANDBOX_BINDING = '83309cde-a56d-7409-88dd-c02e00ab3428';
const FAIL_URL = 'https://partner.example/return?result=fail';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'payoutd exits 0 on SIGTERM');
});

async function register(fields = {}) {
  const orderNumber = uniqueOrder('page');
  const r = await bereke(server.url, 'registerPayout.do', {
    orderNumber, amount: 150000, currency: '398', description: 'Salary advance',
    language: 'en', urls: { returnUrl: RETURN_URL, failUrl: FAIL_URL }, ...fields,
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.errorCode, '0');
  return { orderNumber, ...r.json };
}

// A page that records every URL it requests and every problem it reports.
async function openPage(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (req) => requests.push(req.url()));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => problems.push(String(err)));
  // External returnUrl: never leave the machine.
  await page.route((u) => !u.href.startsWith(server.url), (route) => route.fulfill({ status: 204, body: '' }));
  const response = await page.goto(url);
  return { page, context, requests, problems, response };
}

function assertNoPanInUrls(requests, pan) {
  for (const u of requests) assert.ok(!decodeURIComponent(u).replace(/\s/g, '').includes(pan), `card number in ${u}`);
}

describe('Bereke hosted card page', () => {
  test('a success card pays out, and the finish page leads back to returnUrl', async () => {
    const order = await register();
    const { page, context, requests, problems, response } = await openPage(order.formUrl);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.equal(await page.textContent('#amount'), '1500.00 ₸');
    assert.equal(await page.textContent('#description'), 'Salary advance');
    assert.match(await page.textContent('#countdown'), /^(19|20):\d\d$/);
    assert.ok(await page.isDisabled('#pay'), 'nothing to pay with yet');
    await page.type('#pan', '4111111111111111');
    assert.equal(await page.inputValue('#pan'), '4111 1111 1111 1111', 'grouped as typed');
    await page.fill('#cardholder', 'Ivan Petrov');
    assert.ok(await page.isEnabled('#pay'));
    await Promise.all([page.waitForURL(/finish_en\.html\?mdOrder=/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'success');
    assert.equal(await page.textContent('#masked-pan'), '411111XXXXXX1111');
    assert.equal(await page.getAttribute('#back', 'href'), RETURN_URL);
    assert.ok(!(await page.content()).includes('4111111111111111'));
    const status = await orderStatus(server.url, order.orderNumber);
    assert.equal(status.orderStatus, '2');
    assert.equal(status.operationList[0].cardholderName, 'IVAN PETROV');
    assertNoPanInUrls(requests, '4111111111111111');
    assert.ok(requests.every((u) => u.startsWith(server.url)), `only our origin: ${requests}`);
    assert.deepEqual(problems, []);
    // The form of a paid order now shows its status.
    await page.goto(order.formUrl);
    assert.match(page.url(), /finish_en\.html/);
    await context.close();
  });

  test('a declined card ends on the finish page with the failUrl', async () => {
    const order = await register({ language: 'ru' });
    assert.match(order.formUrl, /payment_ru\.html/);
    const { page, context, problems } = await openPage(order.formUrl);
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    assert.equal(await page.textContent('h1'), 'Получение выплаты');
    await page.type('#pan', '4000000000000002');
    await page.fill('#cardholder', 'Ivan Petrov');
    await Promise.all([page.waitForURL(/finish_ru\.html/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'declined');
    assert.equal(await page.textContent('#status'), 'Выплата отклонена');
    assert.equal(await page.getAttribute('#back', 'href'), FAIL_URL);
    const status = await orderStatus(server.url, order.orderNumber);
    assert.equal(status.orderStatus, '6');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a processing card shows progress, then the final status', async () => {
    const order = await register();
    const { page, context } = await openPage(order.formUrl);
    await page.type('#pan', '4000000000000119');
    await page.fill('#cardholder', 'Ivan Petrov');
    await Promise.all([page.waitForURL(/finish_en\.html/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'processing');
    await page.waitForSelector('#status[data-status="success"]', { timeout: 15000 });
    assert.equal((await orderStatus(server.url, order.orderNumber)).orderStatus, '2');
    await context.close();
  });

  test('the session expires: the page says so and no money moves', async () => {
    const balance = async () => (await bereke(server.url, 'getAmount.do', {})).json.balanceDescriptionList.balanceAmount;
    const before = await balance();
    const order = await register({ sessionTimeoutSecs: 3 });
    const { page, context } = await openPage(order.formUrl);
    await page.type('#pan', '4111111111111111');
    await page.fill('#cardholder', 'Ivan Petrov');
    await page.waitForSelector('#expired:not([hidden])', { timeout: 10000 });
    assert.ok(await page.isDisabled('#pay'));
    assert.equal(await page.textContent('#countdown'), '0:00');
    const status = await waitForStatus(server.url, order.orderNumber, '6');
    assert.equal(status.orderStatus, '6');
    assert.equal(status.errorMessage, 'Время сессии истекло');
    // Submitting anyway (the form bypassed) changes nothing.
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('input')) el.disabled = false;
      document.getElementById('card-form').submit();
    });
    await page.waitForURL(/finish_en\.html/);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'declined');
    assert.match(await page.textContent('#status'), /session has expired/);
    assert.equal(await balance(), before);
    await page.goto(order.formUrl);
    assert.match(await page.textContent('#status'), /session has expired/);
    await context.close();
  });

  test('invalid card numbers are refused as typed and by the server', async () => {
    const order = await register({ language: 'kk' });
    const { page, context, requests } = await openPage(order.formUrl);
    assert.equal(await page.getAttribute('html', 'lang'), 'kk');
    await page.type('#pan', '4111111111111112');
    await page.fill('#cardholder', 'Ivan Petrov');
    assert.equal(await page.getAttribute('#pan', 'aria-invalid'), 'true');
    assert.equal(await page.textContent('#pan-hint'), 'Карта нөмірін тексеріңіз');
    assert.ok(await page.isDisabled('#pay'), 'a number failing the Luhn check cannot be sent');
    // The server checks again: a bypassed form gets the page back with the error.
    const submit = async (pan) => {
      await page.fill('#pan', pan);
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/payouts/payment/confirm')),
        page.evaluate(() => document.getElementById('card-form').submit()),
      ]);
      await page.waitForLoadState();
      return resp.status();
    };
    assert.equal(await submit('4111111111111112'), 422);
    assert.equal(await page.textContent('#error'), 'Карта нөмірін тексеріңіз');
    assert.equal(await submit('4242424242424242'), 422);
    assert.equal(await page.textContent('#error'), 'Төлемдер тек Қазақстан банктерінің карталарына жасалады');
    assert.equal(await submit('4999990000000007'), 422);
    assert.equal(await page.textContent('#error'), 'Бұл банктің карталары қолдау көрсетілмейді');
    assert.equal(await page.inputValue('#pan'), '', 'the page never shows a card number back');
    assert.equal((await orderStatus(server.url, order.orderNumber)).orderStatus, '0', 'still open');
    for (const pan of ['4111111111111112', '4242424242424242', '4999990000000007']) assertNoPanInUrls(requests, pan);
    // A valid card still pays the same order afterwards.
    await page.type('#pan', '5555555555554444');
    await Promise.all([page.waitForURL(/finish_kk\.html/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'success');
    await context.close();
  });

  test("a client's saved card is offered masked, chosen and paid without typing a number", async () => {
    const order = await register({ client: { clientId: SANDBOX_CLIENT, name: 'Ivan Petrov' } });
    const { page, context, problems } = await openPage(order.formUrl);
    assert.ok(await page.isVisible('#saved'));
    const saved = `input[name=bindingId][value="${SANDBOX_BINDING}"]`;
    assert.equal(await page.textContent(`label:has(${saved}) .saved-pan`), '411111XXXXXX1111');
    assert.ok(await page.isChecked('#binding-new'), 'a new card until the recipient chooses');
    assert.ok(await page.isDisabled('#pay'), 'nothing to pay with yet');
    assert.equal(await page.inputValue('#cardholder'), 'Ivan Petrov');
    await page.check(saved);
    assert.ok(await page.isEnabled('#pay'), 'a saved card needs no number');
    await Promise.all([page.waitForURL(/finish_en\.html\?mdOrder=/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'success');
    assert.equal(await page.textContent('#masked-pan'), '411111XXXXXX1111');
    assert.ok(!(await page.content()).includes('4111111111111111'));
    const status = await orderStatus(server.url, order.orderNumber);
    assert.equal(status.orderStatus, '2');
    assert.deepEqual(status.target, { bindingId: SANDBOX_BINDING, clientId: SANDBOX_CLIENT, maskedPan: '411111XXXXXX1111' });
    assert.equal(status.operationList[0].cardholderName, 'IVAN PETROV');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('"new card" beside the saved ones takes a typed card, which is saved for the client', async () => {
    const order = await register({ client: { clientId: SANDBOX_CLIENT } });
    const { page, context, problems } = await openPage(order.formUrl);
    await page.check(`input[name=bindingId][value="${SANDBOX_BINDING}"]`);
    await page.check('#binding-new');
    assert.ok(await page.isDisabled('#pay'), 'a new card needs its number');
    await page.check(`input[name=bindingId][value="${SANDBOX_BINDING}"]`);
    await page.type('#pan', '5555555555554444');
    assert.ok(await page.isChecked('#binding-new'), 'typing a number chooses a new card');
    await page.fill('#cardholder', 'Ivan Petrov');
    assert.ok(await page.isEnabled('#pay'));
    await Promise.all([page.waitForURL(/finish_en\.html/), page.click('#pay')]);
    assert.equal(await page.getAttribute('#status', 'data-status'), 'success');
    const status = await orderStatus(server.url, order.orderNumber);
    assert.equal(status.target.maskedPan, '555555XXXXXX4444');
    assert.notEqual(status.target.bindingId, SANDBOX_BINDING);
    // The client's next order offers both cards.
    const next = await register({ client: { clientId: SANDBOX_CLIENT } });
    await page.goto(next.formUrl);
    const offered = await page.$$eval('#saved .saved-pan', (spans) => spans.map((s) => s.textContent));
    assert.ok(offered.includes('411111XXXXXX1111') && offered.includes('555555XXXXXX4444'), String(offered));
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a client without saved cards sees only the card form', async () => {
    const order = await register({ client: { clientId: uniqueOrder('client') } });
    const { page, context } = await openPage(order.formUrl);
    assert.equal(await page.$('#saved'), null);
    assert.equal(await page.$('input[name=bindingId]'), null);
    await page.type('#pan', '4111111111111111');
    assert.ok(await page.isEnabled('#pay'));
    await context.close();
  });

  test('an unknown order is a 404 page', async () => {
    const { page, context, response } = await openPage(`${server.url}/payouts/payment/payment_en.html?mdOrder=00000000-0000-4000-8000-000000000000`);
    assert.equal(response.status(), 404);
    assert.equal(await page.textContent('#status'), 'Order not found');
    await context.close();
  });
});
