// The hosted pages and the cabinet over HTTPS in a real browser: the Bereke card page at the
// formUrl payoutd builds (its https origin), the ecommpay Payment Page, and the cabinet, whose
// cookies are Secure over TLS. Chromium trusts the test server's certificate (issued by a test CA
// made here with openssl) through --ignore-certificate-errors-spki-list, a pin of that
// certificate's key, not every certificate: a browser without the pin refuses the same page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  BEREKE_PASSWORD, BEREKE_USER, bereke, ecommpaySign, launchBrowser, orderStatus, startServer, uniqueOrder,
} from './harness.mjs';

let dir;
let server;
let browser;

// A test CA and a certificate it issues for 127.0.0.1; returns the chain and key files and the
// certificate's SPKI pin (base64 SHA-256 of its DER SubjectPublicKeyInfo).
function makeCertificates() {
  const file = (name) => join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const newKey = (name) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(name));
  newKey('ca.key');
  openssl('req', '-x509', '-new', '-key', file('ca.key'), '-out', file('ca.crt'), '-days', '2',
          '-subj', '/CN=payoutd browser test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
          '-addext', 'keyUsage=critical,keyCertSign');
  newKey('server.key');
  openssl('req', '-new', '-key', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=payoutd');
  writeFileSync(file('server.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n'
                + 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
          '-out', file('server.crt'), '-days', '2', '-set_serial', '7', '-extfile', file('server.ext'));
  const leaf = readFileSync(file('server.crt'), 'utf8');
  writeFileSync(file('chain.pem'), leaf + readFileSync(file('ca.crt'), 'utf8'));
  const spki = new X509Certificate(leaf).publicKey.export({ type: 'spki', format: 'der' });
  return { chain: file('chain.pem'), key: file('server.key'), pin: createHash('sha256').update(spki).digest('base64') };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'payoutd-browser-tls-'));
  const { chain, key, pin } = makeCertificates();
  server = await startServer({
    extraConfig: `[server.tls]\nlisten = "127.0.0.1:0"\ncert_file = "${chain}"\nkey_file = "${key}"\n`,
  });
  assert.match(server.httpsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  browser = await launchBrowser({ args: [`--ignore-certificate-errors-spki-list=${pin}`] });
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

describe('over HTTPS', () => {
  test('a browser without the pin refuses the certificate', async () => {
    const plain = await launchBrowser();
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(`${server.httpsUrl}/cabinet/login`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await plain.close();
    }
  });

  test('the Bereke card page at formUrl pays out over https', async () => {
    const orderNumber = uniqueOrder('tls');
    const r = await bereke(server.url, 'registerPayout.do', {
      orderNumber, amount: 150000, currency: '398', language: 'en', urls: { returnUrl: 'https://partner.example/ok' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(r.json.formUrl.startsWith(`${server.httpsUrl}/payouts/payment/`), r.json.formUrl);
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    await page.route((u) => !u.href.startsWith(server.httpsUrl), (route) => route.fulfill({ status: 204, body: '' }));
    const response = await page.goto(r.json.formUrl);
    assert.equal(response.status(), 200);
    assert.equal((await response.securityDetails())?.protocol, 'TLS 1.3');
    await page.type('#pan', '4111111111111111');
    await page.fill('#cardholder', 'Ivan Petrov');
    await Promise.all([page.waitForURL(/finish_en\.html\?mdOrder=/), page.click('#pay')]);
    assert.ok(page.url().startsWith(server.httpsUrl));
    assert.equal(await page.getAttribute('#status', 'data-status'), 'success');
    assert.equal((await orderStatus(server.url, orderNumber)).orderStatus, '2');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the ecommpay Payment Page takes a card over https', async () => {
    const paymentId = uniqueOrder('tls');
    // The registration's callback goes to the sandbox's receiver on the plain listener: payoutd's
    // own callbacks do not trust the test CA.
    const body = {
      general: { project_id: 91348, payment_id: paymentId,
                 merchant_callback_url: `${server.url}/sandbox/ecommpay/callbacks` },
      customer: { id: '16061314', email: 'p.jeltz@mail.com', phone: '44991234567', ip_address: '93.47.230.225' },
      payment: { amount: 7000, currency: 'EUR' },
    };
    body.general.signature = ecommpaySign('sandbox-secret-91348', body);
    const registered = await fetch(`${server.url}/v2/payment/payout/registration`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.equal(registered.status, 200);
    const uuid = await registrationUuid(paymentId);
    const params = { mode: 'payout', project_id: '91348', payment_id: paymentId, uuid, customer_id: '16061314',
                     customer_email: 'p.jeltz@mail.com', payment_amount: '7000', payment_currency: 'EUR',
                     language_code: 'en' };
    params.signature = ecommpaySign('sandbox-secret-91348', params);
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${server.httpsUrl}/payment?${new URLSearchParams(params)}`);
    assert.equal(response.status(), 200);
    assert.equal(await page.textContent('#amount'), '70.00 EUR');
    await page.type('#pan', '4111111111111111');
    await page.fill('#cardholder', 'Prostetnik Jeltz');
    await Promise.all([page.waitForURL(/\/payment\/card$/), page.click('#pay')]);
    assert.ok(page.url().startsWith(server.httpsUrl));
    assert.match(await page.textContent('#code-sent'), /p\.j\*\*\*@mail\.com/);
    await context.close();
  });

  test('the cabinet signs in over https with Secure cookies', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.httpsUrl}/cabinet`);
    assert.match(page.url(), /\/cabinet\/login$/);
    await page.fill('#login', BEREKE_USER);
    await page.fill('#password', BEREKE_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    assert.equal(page.url(), `${server.httpsUrl}/cabinet`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'cabinet_session');
    assert.ok(session, JSON.stringify(cookies));
    assert.equal(session.secure, true);
    assert.equal(session.httpOnly, true);
    assert.ok(cookies.every((c) => c.secure), JSON.stringify(cookies));
    await context.close();
  });
});

// The uuid of the payment's registration, from the sandbox's receiver of callbacks.
async function registrationUuid(paymentId) {
  const query = new URLSearchParams({
    project_id: '91348', signature: ecommpaySign('sandbox-secret-91348', { project_id: '91348' }),
  });
  const deadline = Date.now() + 10000;
  for (;;) {
    const all = await (await fetch(`${server.url}/sandbox/ecommpay/callbacks?${query}`)).json();
    const mine = all.find((c) => c.general.payment_id === paymentId);
    if (mine) return mine.uuid;
    assert.ok(Date.now() < deadline, 'no registration callback');
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
