// Cabinet users created at run time, in a real browser (docs/cabinet.md, "Users at run time"): an
// operator creates a login through the admin API; its user signs in with the generated password,
// is kept on the password page (in Russian, as they chose) until they choose their own, then reads
// the cabinet; the password page is in the header of every page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, startServer } from './harness.mjs';

const ADMIN_TOKEN = 'sandbox-admin-token';
const USERS = '/admin/v1/tenants/bereke:sandbox-partner/cabinet-users';

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

async function admin(method, path, body) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

async function signIn(page, login, password) {
  await page.goto(`${server.url}/cabinet/login`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
}

describe('cabinet users at run time', () => {
  test('a new user must choose their own password before anything else, in their language', async () => {
    const created = await admin('POST', USERS, { login: 'browser-user', roles: ['viewer'] });
    assert.equal(created.status, 201);
    const initial = created.json.initialPassword;
    const context = await browser.newContext({ locale: 'ru-RU' });
    const page = await context.newPage();
    await signIn(page, 'browser-user', initial);
    assert.match(page.url(), /\/cabinet\/password$/);
    assert.equal(await page.getAttribute('html', 'lang'), 'ru');
    assert.match(await page.textContent('#required'), /выбрали за вас/);
    assert.match(await page.textContent('h1'), /Пароль/);
    // Any other page comes back here.
    await page.goto(`${server.url}/cabinet/payouts`);
    assert.match(page.url(), /\/cabinet\/password$/);
    // The browser holds a short password back (minlength); a mistyped second copy is refused by
    // the server, in Russian.
    await page.fill('#current', initial);
    await page.fill('#next', 'short');
    await page.fill('#again', 'short');
    await page.click('#save-password');
    assert.equal(await page.evaluate(() => document.querySelector('#next').validity.tooShort), true);
    assert.match(page.url(), /\/cabinet\/password$/);
    await page.fill('#next', 'a browser user password');
    await page.fill('#again', 'a browser user passworD');
    await Promise.all([page.waitForNavigation(), page.click('#save-password')]);
    assert.match(await page.textContent('#error'), /дважды одинаково/);
    await page.fill('#current', initial);
    await page.fill('#next', 'a browser user password');
    await page.fill('#again', 'a browser user password');
    await Promise.all([page.waitForNavigation(), page.click('#save-password')]);
    assert.match(await page.textContent('#notice'), /Пароль изменён/);
    assert.equal(await page.locator('#required').count(), 0);
    // The cabinet opens now, with the password page in its header.
    await page.goto(`${server.url}/cabinet`);
    assert.match(page.url(), /\/cabinet$/);
    assert.match(await page.textContent('#who'), /browser-user · bereke:sandbox-partner/);
    assert.equal(await page.getAttribute('#password-link', 'href'), '/cabinet/password');
    await context.close();

    // The chosen password signs in straight to the balances; the generated one no more.
    const again = await browser.newContext();
    const next = await again.newPage();
    await signIn(next, 'browser-user', initial);
    assert.match(next.url(), /\/cabinet\/login$/);
    await signIn(next, 'browser-user', 'a browser user password');
    assert.match(next.url(), /\/cabinet$/);
    assert.match(await next.textContent('tr[data-code="transit"] .balance'), /KZT$/);
    await again.close();
  });

  test('a user of the config is told that the config sets its password', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'bereke-viewer', 'sandbox-cabinet-viewer');
    await page.click('#password-link');
    await page.waitForURL(/\/cabinet\/password$/);
    assert.match(await page.textContent('#config-password'), /configuration/);
    assert.equal(await page.locator('#password-form').count(), 0);
    await context.close();
  });
});
