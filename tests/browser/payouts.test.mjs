// Payouts across partners in the operators' console (docs/console.md, "Payouts, attention and
// redelivery"), in a real browser: a support member signs in (password, TOTP enrolment), finds a
// Bereke card payout by its masked card and opens its timeline; a partner's callback receiver
// refuses an ecommpay callback, which the attention page shows; once the receiver is fixed, the
// member presses Redeliver and the callback is delivered.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import {
  ADMIN_TOKEN, bereke, consoleSignIn, ecommpayRegister, launchBrowser, startServer, uniqueOrder,
} from './harness.mjs';


let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

// A new member with `roles`, signed in on a page of a new context: the password shown once, TOTP
// enrolled, a password of their own chosen.
async function signedIn(login, roles) {
  const r = await fetch(`${server.url}/admin/v1/staff`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ login, name: 'Oksana Support', roles }),
  });
  assert.equal(r.status, 201);
  const initial = (await r.json()).initialPassword;
  return consoleSignIn(browser, server, login, initial, { newPassword: `${login}-own-password` });
}

// A partner's callback endpoint that answers 500 until fixed, then 200.
function receiver() {
  const got = [];
  let status = 500;
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ status, body });
      res.writeHead(status, { 'Content-Length': '2' });
      res.end('ok');
    });
  });
  return new Promise((ok) => http.listen(0, '127.0.0.1', () => ok({
    url: `http://127.0.0.1:${http.address().port}/callbacks`,
    got,
    fix() { status = 200; },
    close() { http.close(); },
  })));
}

async function until(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

test('a payout is found by its masked card and its timeline opened', async () => {
  const order = uniqueOrder('console-card');
  const paid = await bereke(server.url, 'performPayout.do', {
    orderNumber: order, amount: 4321, currency: '398', target: { card: { pan: '4111111111111111' } },
  });
  assert.equal(paid.json.orderStatus, '2');
  const page = await signedIn('oksana', ['viewer', 'support']);
  await page.click('nav a[href="/console/payouts"]');
  await page.fill('#search-card', '411111******1111');
  await Promise.all([page.waitForNavigation(), page.click('#search')]);
  const row = page.locator('#results tr.payout', { hasText: order });
  assert.equal(await row.count(), 1);
  assert.equal((await row.locator('.card').textContent()).trim(), '411111XXXXXX1111');
  assert.ok(!(await page.content()).includes('4111111111111111'));
  await Promise.all([page.waitForNavigation(), row.locator('a.timeline').click()]);
  assert.equal(await page.textContent('#payout-partner-id'), order);
  assert.equal(await page.textContent('#payout-card'), '411111XXXXXX1111');
  assert.equal(await page.textContent('#payout-tenant'), 'bereke:sandbox-partner');
  const events = await page.$$eval('#timeline .event-name', (cells) => cells.map((c) => c.textContent));
  assert.equal(events[0], 'created');
  assert.ok(events.indexOf('rail.answer') > 0 && events.indexOf('success') > events.indexOf('rail.answer'), events);
  await page.context().close();
});

test('a failing callback is on the attention page and is delivered once redelivered', async () => {
  const partner = await receiver();
  try {
    const paymentId = uniqueOrder('console-cb');
    assert.equal((await ecommpayRegister(server.url, paymentId, { callbackUrl: partner.url })).status, 200);
    await until('a refused callback', () => partner.got.length >= 1);
    const page = await signedIn('taras', ['viewer', 'support']);
    await page.click('nav a[href="/console/attention"]');
    const row = page.locator('#failing tr.failing', { hasText: `${paymentId}:registration` });
    await until('the callback on the attention page', async () => {
      if (await row.count() === 1) return true;
      await page.reload();
      return false;
    });
    assert.match(await row.textContent(), /HTTP 500/);

    partner.fix();
    await Promise.all([page.waitForNavigation(), row.locator('button.redeliver').click()]);
    assert.match(await page.textContent('#notice'), /being delivered again/);
    await until('the callback delivered', () => partner.got.some((g) => g.status === 200));
    const delivered = partner.got.find((g) => g.status === 200);
    assert.equal(JSON.parse(delivered.body).general.payment_id, paymentId);
    await until('the callback gone from the attention page', async () => {
      await page.reload();
      return await row.count() === 0;
    });
    // Its payout's page shows it delivered.
    await page.goto(`${server.url}/console/payouts?id=${paymentId}`);
    await Promise.all([page.waitForNavigation(), page.locator('#results a.timeline').first().click()]);
    const states = await page.$$eval('#messages tr.message', (rows) => rows.map((r) => r.textContent));
    assert.ok(states.some((s) => s.includes(`${paymentId}:registration`) && s.includes('DELIVERED')), states);
    await page.context().close();
  } finally {
    partner.close();
  }
});

test('a viewer sees a failing callback without a Redeliver button', async () => {
  const partner = await receiver();
  try {
    const paymentId = uniqueOrder('console-viewer');
    assert.equal((await ecommpayRegister(server.url, paymentId, { callbackUrl: partner.url })).status, 200);
    await until('a refused callback', () => partner.got.length >= 1);
    const page = await signedIn('vera', ['viewer']);
    await page.goto(`${server.url}/console/attention`);
    const row = page.locator('#failing tr.failing', { hasText: `${paymentId}:registration` });
    await until('the callback on the attention page', async () => {
      if (await row.count() === 1) return true;
      await page.reload();
      return false;
    });
    assert.equal(await row.locator('button.redeliver').count(), 0);
    await page.context().close();
  } finally {
    partner.close();
  }
});
