// The operators' console in a real browser (docs/console.md): a member created through the admin
// API signs in with the password shown once, enrols TOTP (the test reads the secret from the
// page's text and computes the codes, as an authenticator app would from the QR code), replaces
// the generated password, sees the home page and signs out; signs in again with the password and
// a code; a wrong code and a code used once already are refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ADMIN_TOKEN, launchBrowser, startServer, totp } from './harness.mjs';

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

async function createMember(login, roles) {
  const r = await fetch(`${server.url}/admin/v1/staff`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ login, name: 'Nina Operator', roles }),
  });
  assert.equal(r.status, 201);
  return (await r.json()).initialPassword;
}

async function submitPassword(page, login, password) {
  await page.goto(`${server.url}/console`);
  assert.match(page.url(), /\/console\/login$/);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
}

async function submitCode(page, code) {
  await page.fill('#code', code);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#verify')]);
  return response;
}

test('first sign-in enrols TOTP, later ones need a code that counts once', async () => {
  const initial = await createMember('nina', ['viewer', 'finance']);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  // Chromium reports each refused code's 401 as a console error: those are the test's own.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 401')) errors.push(m.text());
  });

  await submitPassword(page, 'nina', initial);
  assert.match(page.url(), /\/console\/enrol$/);
  assert.equal(await page.locator('#qr svg').count(), 1);
  const secret = (await page.textContent('#secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  // The cookies are the console's own: HttpOnly, on its path.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'console_session');
  assert.ok(session && session.httpOnly && session.path === '/console' && session.sameSite === 'Strict');
  assert.ok(!cookies.some((c) => c.name === 'cabinet_session'));

  // Codes are pinned to the enrolment's step, so a 30 s boundary mid-test changes nothing.
  const enrolledAt = Date.now();
  const enrolCode = totp(secret, 0, enrolledAt);
  await page.fill('#code', enrolCode);
  await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
  assert.match(page.url(), /\/console\/password$/);
  assert.equal(await page.locator('#required').count(), 1);
  const chosen = 'nina-chose-this-one';
  await page.fill('#current', initial);
  await page.fill('#next', chosen);
  await page.fill('#again', chosen);
  await Promise.all([page.waitForNavigation(), page.click('#save-password')]);
  assert.match(page.url(), /\/console$/);
  assert.equal(await page.textContent('#member-name'), 'Nina Operator');
  assert.equal(await page.textContent('#member-roles'), 'viewer, finance');
  assert.equal(await page.textContent('#who'), 'nina · viewer, finance');
  // The navigation links the pages her roles open, each of which answers her.
  const links = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
  for (const path of ['/console', '/console/partners', '/console/funding', '/console/requests',
                      '/console/audit', '/console/reports/card-payouts']) {
    assert.ok(links.includes(path), `${path} in ${links}`);
  }
  for (const path of links) {
    const r = await page.request.get(`${server.url}${path}`);
    assert.equal(r.status(), 200, path);
  }
  await Promise.all([page.waitForNavigation(), page.click('#logout')]);
  assert.match(page.url(), /\/console\/login$/);
  await page.goto(`${server.url}/console`);
  assert.match(page.url(), /\/console\/login$/);

  // Again: the password, then a code. The enrolment's code is spent; a wrong one is refused.
  await submitPassword(page, 'nina', chosen);
  assert.match(page.url(), /\/console\/code$/);
  const next = totp(secret, 1, enrolledAt);
  const wrong = ['000000', '000001', '000002'].find((c) => c !== enrolCode && c !== next);
  let response = await submitCode(page, wrong);
  assert.equal(response.status(), 401);
  assert.match(await page.textContent('#error'), /Wrong code/);
  response = await submitCode(page, enrolCode);
  assert.equal(response.status(), 401);
  response = await submitCode(page, next);
  assert.match(page.url(), /\/console$/);
  assert.equal(await page.textContent('#member-login'), 'nina');

  // The same code from another browser: refused, it counted once.
  const other = await (await browser.newContext()).newPage();
  await submitPassword(other, 'nina', chosen);
  response = await submitCode(other, next);
  assert.equal(response.status(), 401);
  assert.match(other.url(), /\/console\/code$/);
  assert.deepEqual(errors, []);
  await context.close();
});
