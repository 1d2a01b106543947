// Cabinet users created at run time, in a real browser (docs/cabinet.md, "Users at run time"): an
// operator creates a login through the admin API; its user signs in with the generated password,
// is kept on the password page (in Russian, as they chose) until they choose their own, then reads
// the cabinet; the password page is in the header of every page. And the console's page of a
// partner's cabinet users (docs/console.md, "Cabinet users"): the sandbox's support member creates
// one (its password shown once), changes its roles, disables it and resets its password; a
// finance member reads the list without a form.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_TOKEN, consoleSignIn, launchBrowser, sandboxConsolePassword, startServer, submit,
} from './harness.mjs';

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

// Signs a sandbox staff member in to the console with its published password, enrolling TOTP.
function staffSignIn(login) {
  return consoleSignIn(browser, server, login, sandboxConsolePassword(login));
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

  test('the console creates a cabinet user, shows its password once, changes, disables and resets it', async () => {
    const support = await staffSignIn('ops-support');
    await support.click('nav a[href="/console/cabinet-users"]');
    await support.waitForURL(/\/console\/cabinet-users$/);
    await Promise.all([support.waitForNavigation(), support.click('a[href="/console/cabinet-users/bereke:sandbox-partner"]')]);
    // The config's users are listed, read only.
    assert.match(await support.textContent('tr[data-login="bereke-viewer"]'), /in the config/);
    await support.fill('#login', 'console-made');
    await support.check('#role-cards');
    assert.equal(await submit(support, '#create-cabinet-user'), 201);
    const password = (await support.textContent('#initial-password')).trim();
    assert.match(password, /^[A-Za-z0-9_-]{20}$/);
    // Loading the answer again sends the form again: the login exists, no password is shown.
    const again = await support.reload();
    assert.equal(again.status(), 409);
    assert.match(await support.textContent('#error'), /cabinet-user\.exists/);
    assert.ok(!(await support.content()).includes(password));
    const row = 'tr[data-login="console-made"]';
    assert.equal(await support.textContent(`${row} .roles`), 'viewer, cards');
    assert.match(await support.textContent(row), /must choose a password/);

    // The user signs in to the cabinet with it, and must choose their own.
    const cabinet = await (await browser.newContext()).newPage();
    await signIn(cabinet, 'console-made', password);
    assert.match(cabinet.url(), /\/cabinet\/password$/);

    // Roles: cards off, settings on.
    await support.goto(`${server.url}/console/cabinet-users/bereke:sandbox-partner`);
    await support.uncheck(`${row} input[value="cards"]`);
    await support.check(`${row} input[value="settings"]`);
    assert.equal(await submit(support, `${row} .save-roles`), 200);
    assert.equal(await support.textContent(`${row} .roles`), 'viewer, settings');
    // Disabled: the cabinet's session ends at its next request.
    assert.equal(await submit(support, `${row} .disable`), 200);
    assert.equal(await support.textContent(`${row} .state`), 'disabled');
    await cabinet.goto(`${server.url}/cabinet/password`);
    assert.match(cabinet.url(), /\/cabinet\/login$/);
    assert.equal(await submit(support, `${row} .enable`), 200);
    // A reset shows a new password once; sending the form again resets nothing.
    assert.equal(await submit(support, `${row} .reset`), 200);
    const reset = (await support.textContent('#initial-password')).trim();
    assert.notEqual(reset, password);
    assert.equal((await support.reload()).status(), 409);
    assert.ok(!(await support.content()).includes(reset));
    await signIn(cabinet, 'console-made', reset);
    assert.match(cabinet.url(), /\/cabinet\/password$/);

    // A finance member reads the list, without a form.
    const finance = await staffSignIn('ops-finance');
    await finance.goto(`${server.url}/console/cabinet-users/bereke:sandbox-partner`);
    assert.match(await finance.textContent('tr[data-login="console-made"] .state'), /enabled/);
    assert.equal(await finance.locator('#cabinet-user-form, form.roles-form').count(), 0);
  });
});
