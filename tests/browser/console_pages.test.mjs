// The console's working pages in a real browser (docs/console.md, "Pages"), signed in as the
// sandbox's staff (config/sandbox.toml: ops-admin, ops-finance, ops-checker, each enrolling TOTP
// at the first sign-in): ops-admin onboards a QIWI product and sees its token once, a token that
// works, rotates it (the new one shown once, the old one working through its overlap, a resent
// form rotating nothing) and adds a funder through the settings form; ops-support suspends and
// resumes it; ops-finance credits its funding account above the approval threshold, which makes a
// request and moves nothing, and cannot approve it; ops-checker approves it and the balance moves
// once; the audit log page shows these actions, each through the console, and filters them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  consoleSignIn, launchBrowser, sandboxConsolePassword, startServer, submit,
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

// Signs `login` in with its published password, enrolling TOTP (the first sign-in): a page of
// its own browser context, on the console's home page.
function signIn(login) {
  return consoleSignIn(browser, server, login, sandboxConsolePassword(login));
}

async function go(page, path) {
  const response = await page.goto(`${server.url}${path}`);
  return response.status();
}

// The QIWI API with `token`: the status of a payout that does not exist.
async function qiwiStatus(product, token) {
  const r = await fetch(
    `${server.url}/partner/openapi-payment-api/v1/funder-payouts/products/${product}/transactions/none`,
    { headers: { Authorization: `Bearer ${token}` } });
  return r.status;
}

const SETTINGS = {
  funders: [{ id: 'main-funder', displayName: 'Main programme', currency: 'RUB' }],
  clients: [{ clientId: 'c1', accountId: 'a1', currency: 'RUB', mode: 'normal' }],
};

test('onboard a partner, credit it under maker-checker, and read the audit log', async () => {
  const admin = await signIn('ops-admin');

  // Onboarding: the provider's example fills the form; the token is on the answer only.
  assert.equal(await go(admin, '/console/partners'), 200);
  await Promise.all([admin.waitForNavigation(), admin.click('#new-partner')]);
  await admin.selectOption('#example-provider', 'qiwi');
  assert.equal(await submit(admin, '#use-example'), 200);
  assert.match(await admin.inputValue('#settings'), /"funders"/);
  await admin.selectOption('#provider', 'qiwi');
  await admin.fill('#id', 'console-shop');
  await admin.fill('#settings', JSON.stringify(SETTINGS));
  assert.equal(await submit(admin, '#create-partner'), 201);
  const token = (await admin.textContent('#issued-credentials .secret')).trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await qiwiStatus('console-shop', token), 404);  // authenticated: no such payout
  assert.equal(await qiwiStatus('console-shop', `${token}x`), 401);
  // Loading the answer again shows no credential (sent again, the form finds the partner
  // exists), nor does the partner's page: its token was shown once.
  await admin.reload();
  assert.ok(!(await admin.content()).includes(token));
  assert.equal(await go(admin, '/console/partners/qiwi:console-shop'), 200);
  assert.ok(!(await admin.content()).includes(token));
  assert.equal(await admin.textContent('#partner-status'), 'active');
  assert.equal(await admin.textContent('#partner-source'), 'runtime');
  assert.equal(await admin.locator('#credential-list tr').count(), 2);  // a header and one
  assert.equal(await admin.textContent('[data-funder="main-funder"] .balance'), '0.00 RUB');
  // New credentials, the current token kept for an hour: both work, the new one shown once.
  const revision = await admin.getAttribute('#rotate-form input[name=revision]', 'value');
  const rotateCsrf = await admin.getAttribute('#rotate-form input[name=csrf]', 'value');
  await admin.fill('#overlap_s', '3600');
  assert.equal(await submit(admin, '#rotate'), 200);
  const rotated = (await admin.textContent('#issued-credentials .secret')).trim();
  assert.match(rotated, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(rotated, token);
  assert.equal(await qiwiStatus('console-shop', rotated), 404);
  assert.equal(await qiwiStatus('console-shop', token), 404);  // in its overlap
  // The rotation form sent again (a reload) rotates nothing: the partner's revision moved on.
  const resentRotation = await admin.request.post(
    `${server.url}/console/partners/qiwi:console-shop/rotate`,
    { form: { csrf: rotateCsrf, revision, overlap_s: '3600' }, headers: { Origin: server.url } });
  assert.equal(resentRotation.status(), 409);
  assert.ok(!(await resentRotation.text()).includes('class="secret"'));
  assert.equal(await go(admin, '/console/partners/qiwi:console-shop'), 200);
  assert.ok(!(await admin.content()).includes(rotated));
  assert.equal(await admin.locator('#credential-list tr').count(), 3);  // the old and the new
  const old = await admin.$$eval('#credential-list tr', (trs) => trs.slice(1).map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(old.filter((row) => row[4] === 'never (current)').length, 1);
  assert.equal(old.filter((row) => row[5] === '1').length, 1);  // the old token's one use
  // Settings: a funder added through the JSON form is opened at zero.
  await Promise.all([admin.waitForNavigation(), admin.click('#edit-settings')]);
  const settings = JSON.parse(await admin.inputValue('#settings'));
  settings.funders.push({ id: 'second-funder', displayName: 'Second', currency: 'RUB' });
  await admin.fill('#settings', JSON.stringify(settings));
  assert.equal(await submit(admin, '#save-settings'), 200);
  assert.equal(await admin.textContent('[data-funder="second-funder"] .balance'), '0.00 RUB');
  // A document that does not parse is refused on the form, as it was typed.
  await Promise.all([admin.waitForNavigation(), admin.click('#edit-settings')]);
  await admin.fill('#settings', '{"funders": [');
  assert.equal(await submit(admin, '#save-settings'), 400);
  assert.match(await admin.textContent('#error'), /not a JSON document/);
  assert.equal(await admin.inputValue('#settings'), '{"funders": [');
  // Support suspends and resumes (an admin's roles do not include it); only admins change
  // settings and credentials.
  const support = await signIn('ops-support');
  assert.equal(await go(admin, '/console/partners/qiwi:console-shop'), 200);
  assert.equal(await admin.locator('#suspend').count(), 0);
  assert.equal(await go(support, '/console/partners/qiwi:console-shop'), 200);
  assert.equal(await support.locator('#edit-settings, #rotate-form, #close').count(), 0);
  assert.equal(await submit(support, '#suspend'), 200);
  assert.equal(await support.textContent('#partner-status'), 'suspended');
  assert.equal(await go(support, '/console/partners?status=suspended'), 200);
  assert.equal(await support.locator('tr[data-key="qiwi:console-shop"] .status').textContent(), 'suspended');
  assert.equal(await go(support, '/console/partners/qiwi:console-shop'), 200);
  assert.equal(await submit(support, '#resume'), 200);
  assert.equal(await support.textContent('#partner-status'), 'active');
  await support.context().close();

  // The list, filtered by provider and status.
  assert.equal(await go(admin, '/console/partners?provider=qiwi&status=active'), 200);
  assert.equal(await admin.locator('#partner-list tr[data-key="qiwi:console-shop"]').count(), 1);
  assert.equal(await go(admin, '/console/partners?provider=bereke'), 200);
  assert.equal(await admin.locator('tr[data-key="qiwi:console-shop"]').count(), 0);
  // An admin without finance sees the accounts, not the forms that move money.
  assert.equal(await go(admin, '/console/funding/qiwi:console-shop'), 200);
  assert.equal(await admin.locator('.credit-form').count(), 0);

  // Above the approval threshold (RUB 1 000 000.00), a credit is a request: nothing moves.
  const finance = await signIn('ops-finance');
  assert.equal(await go(finance, '/console/funding/qiwi:console-shop'), 200);
  const form = '#funder-main-funder .credit-form';
  const moveId = await finance.getAttribute(`${form} input[name=move_id]`, 'value');
  const csrf = await finance.getAttribute(`${form} input[name=csrf]`, 'value');
  await finance.fill('#credit-main-funder', '1500000.00');
  assert.equal(await submit(finance, `${form} button`), 200);
  assert.equal(await finance.locator('#pending').count(), 1);
  const requestId = (await finance.textContent('#request-link')).trim();
  assert.match(requestId, /^\d+$/);
  // The same form sent again (a reload, a double click) is the same request.
  const resent = await finance.request.post(
    `${server.url}/console/funding/qiwi:console-shop/main-funder/credit`, {
      form: { csrf, move_id: moveId, currency: 'RUB', amount: '1500000.00' },
      headers: { Origin: server.url },
    });
  assert.equal(resent.status(), 200);
  assert.match(await resent.text(), new RegExp(`id="request-link" href="/console/requests/${requestId}"`));
  assert.equal(await go(finance, '/console/funding/qiwi:console-shop'), 200);
  assert.equal(await finance.textContent('#funder-main-funder .balance'), '0.00 RUB');
  // The requester sees why they cannot approve, and the API refuses them if they try.
  assert.equal(await go(finance, `/console/requests/${requestId}`), 200);
  assert.equal(await finance.locator('#own-request').count(), 1);
  assert.equal(await finance.locator('#approve').count(), 0);
  const own = await finance.request.post(`${server.url}/console/requests/${requestId}/approve`, {
    form: { csrf }, headers: { Origin: server.url },
  });
  assert.equal(own.status(), 403);
  assert.match(await own.text(), /request\.own/);

  // A second finance member approves it: the money moves, once.
  const checker = await signIn('ops-checker');
  assert.equal(await go(checker, '/console/requests?status=pending'), 200);
  assert.equal(await checker.locator(`#request-list tr[data-id="${requestId}"]`).count(), 1);
  await Promise.all([checker.waitForNavigation(),
                     checker.click(`#request-list tr[data-id="${requestId}"] a`)]);
  assert.equal(await submit(checker, '#approve'), 200);
  assert.equal(await checker.getAttribute('#request', 'data-status'), 'approved');
  assert.equal(await checker.textContent('[data-field="decidedBy"]'), 'ops-checker');
  const decided = await checker.request.post(`${server.url}/console/requests/${requestId}/approve`, {
    form: { csrf: await checker.getAttribute('input[name=csrf]', 'value') },
    headers: { Origin: server.url },
  });
  assert.equal(decided.status(), 409);  // decided already
  assert.equal(await go(checker, '/console/funding/qiwi:console-shop'), 200);
  assert.equal(await checker.textContent('#funder-main-funder .balance'), '1500000.00 RUB');
  // The requester's credit form sent once more: the same request, approved; nothing more moves.
  assert.equal(await go(finance, `/console/requests/${requestId}`), 200);
  assert.equal(await finance.getAttribute('#request', 'data-status'), 'approved');
  assert.equal(await go(checker, '/console/partners/qiwi:console-shop'), 200);
  assert.equal(await checker.textContent('[data-funder="main-funder"] .balance'), '1500000.00 RUB');

  // The day's statement of the account shows the credit, with its CSV.
  const today = new Date(Date.now() + 3 * 3600 * 1000).toISOString().slice(0, 10);  // +03:00
  assert.equal(await go(checker, `/console/funding/qiwi:console-shop/main-funder/statement?date=${today}`), 200);
  assert.equal(await checker.textContent('#closing'), '1500000.00 RUB');
  const csv = await checker.request.get(await checker.getAttribute('#statement-csv', 'href')
    .then((href) => `${server.url}${href}`));
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'], /^text\/csv/);
  assert.match(await csv.text(), /1500000\.00/);

  // The audit log: each action, by whom, through the console; filters narrow it.
  assert.equal(await go(admin, '/console/audit?actor=ops-checker&action=request.'), 200);
  const actions = await admin.$$eval('#audit-entries tr[data-seq] .action', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(actions, ['request.approve']);
  assert.equal(await go(admin, '/console/audit?actor=ops-finance&outcome=403'), 200);
  const refused = await admin.$$eval('#audit-entries tr[data-seq]', (trs) => trs.map((t) => [
    t.querySelector('.target').textContent, t.querySelector('.outcome').textContent]));
  assert.deepEqual(refused, [[`/admin/v1/requests/${requestId}/approve`, '403 request.own']]);
  assert.equal(await go(admin, '/console/audit?actor=ops-admin&action=http.POST'), 200);
  const onboarding = await admin.$$eval('#audit-entries tr[data-seq] .target', (tds) => tds.map((t) => t.textContent));
  assert.ok(onboarding.includes('/admin/v1/tenants'), onboarding.join(' '));
  const vias = await admin.$$eval('#audit-entries tr[data-seq] td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
  assert.ok(vias.length > 0 && vias.every((v) => v === 'console'), vias.join(' '));
  // Onboarding is the admins': a finance member gets the 403 page, no form.
  assert.equal(await go(finance, '/console/partners/new'), 403);
  assert.equal(await finance.locator('#partner-form').count(), 0);
  await admin.context().close();
  await finance.context().close();
  await checker.context().close();
});
