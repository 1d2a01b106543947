// Browser-test harness: starts the real payoutd binary on a free port with a fresh data directory
// (as the Python e2e harness does), and launches Debian's Chromium through playwright-core.
//   PAYOUTD_BIN     the server binary (default <repo>/build/payoutd)
//   PAYOUTD_CONFIG  its config (default <repo>/config/sandbox.toml)
//   CHROMIUM        the browser (default /usr/bin/chromium)
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADMIN_TOKEN = 'sandbox-admin-token';
export const BEREKE_USER = 'payout_api_username';
export const BEREKE_PASSWORD = 'payout_api_password';

// The sandbox config, its relative paths made absolute, with {old: new} replacements.
function configText(replace = {}) {
  const path = process.env.PAYOUTD_CONFIG || join(repo, 'config', 'sandbox.toml');
  let text = readFileSync(path, 'utf8');
  text = text.replace(/^((?:bin_table|knp_table)\s*=\s*)"([^"/][^"]*)"/gm,
                      (_, key, rel) => `${key}"${resolve(dirname(path), rel)}"`);
  for (const [old, now] of Object.entries(replace)) {
    if (text.split(old).length !== 2) throw new Error(`config: ${old} is not there exactly once`);
    text = text.replace(old, now);
  }
  return text;
}

// extraConfig: TOML appended to the config (e.g. a [server.tls] listener; its origin is then
// httpsUrl).
export async function startServer({ configReplace = {}, extraConfig = '' } = {}) {
  const bin = process.env.PAYOUTD_BIN || join(repo, 'build', 'payoutd');
  const tmp = mkdtempSync(join(tmpdir(), 'payoutd-browser-'));
  const config = join(tmp, 'config.toml');
  writeFileSync(config, configText(configReplace) + '\n' + extraConfig);
  const proc = spawn(bin, ['serve', '--config', config, '--listen', '127.0.0.1:0',
                           '--data-dir', join(tmp, 'data')],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  let httpsUrl;
  const url = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`payoutd did not start:\n${log}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      // The TLS listener's line comes first, the plain one's last.
      httpsUrl = out.match(/listening on (https:\/\/127\.0\.0\.1:\d+)/)?.[1];
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`payoutd exited ${code}:\n${log}`)); });
  });
  return {
    url,
    httpsUrl,
    dataDir: join(tmp, 'data'),
    log: () => log,
    async stop() {
      const exited = new Promise((ok) => proc.on('exit', ok));
      proc.kill('SIGTERM');
      const code = await exited;
      rmSync(tmp, { recursive: true, force: true });
      return code;
    },
  };
}

// POST /payouts/api/v2/<method> with the sandbox partner's credentials.
export async function bereke(base, method, body) {
  const r = await fetch(`${base}/payouts/api/v2/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userName: BEREKE_USER, password: BEREKE_PASSWORD, ...body }),
  });
  return { status: r.status, json: await r.json() };
}

export async function orderStatus(base, orderNumber) {
  return (await bereke(base, 'getPayoutStatus.do', { orderNumber })).json;
}

export async function waitForStatus(base, orderNumber, wanted, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = await orderStatus(base, orderNumber);
    if (j.orderStatus === wanted || Date.now() > deadline) return j;
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

// args: more Chromium flags.
export function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // As root (CI) Chromium's own sandbox cannot start; the pages under test are our own.
    // English unless a test's context asks for another locale: the pages choose their language
    // from Accept-Language, which would otherwise follow the machine's locale.
    args: ['--lang=en-US', ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []), ...args],
  });
}

// RFC 4648 base32 (a TOTP secret as the console shows it) to bytes.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238, as an authenticator app computes it: HMAC-SHA1 of the 30-second step, 6 digits;
// `offset` steps from `at` (now).
export function totp(secret, offset = 0, at = Date.now()) {
  const step = Math.floor(at / 30000) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const start = mac[19] & 0x0f;
  return String((mac.readUInt32BE(start) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// The published password of a sandbox staff member (config/sandbox.toml: ops-admin, ...).
export function sandboxConsolePassword(login) {
  return `sandbox-console-${login.replace('ops-', '')}`;
}

// Signs `login` in to the console on a page of a new context of `browser`: the password, then
// TOTP enrolment (the first sign-in), then, when `newPassword` is given, a password of the member's
// own (a member created with an initial password must choose one). Ends on the console's home.
export async function consoleSignIn(browser, server, login, password, { newPassword } = {}) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/console/login`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
  if (!/\/console\/enrol$/.test(page.url())) throw new Error(`not enrolling: ${page.url()}`);
  const secret = (await page.textContent('#secret')).trim();
  await page.fill('#code', totp(secret));
  await Promise.all([page.waitForNavigation(), page.click('#confirm')]);
  if (newPassword) {
    await page.fill('#current', password);
    await page.fill('#next', newPassword);
    await page.fill('#again', newPassword);
    await Promise.all([page.waitForNavigation(), page.click('#save-password')]);
  }
  if (!/\/console$/.test(page.url())) throw new Error(`not signed in: ${page.url()}`);
  return page;
}

// Clicks `selector` and answers the status of the page it navigates to.
export async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response.status();
}

// ecommpay: the signature of the SDKs' algorithm (docs/ecommpay.md), written here independently.
export function ecommpaySign(secret, value) {
  const pairs = [];
  const walk = (v, path) => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
      for (const [k, x] of entries) {
        if (!Array.isArray(v) && (k === 'signature' || k === 'frame_mode')) continue;
        walk(x, path ? `${path}:${k}` : k);
      }
    } else if (typeof v === 'boolean') {
      pairs.push([path, v ? '1' : '0']);
    } else {
      pairs.push([path, v === null ? '' : String(v)]);
    }
  };
  walk(value, '');
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
  pairs.sort((a, b) => (a[0] === b[0] ? 0 : (collator.compare(a[0], b[0]) || (a[0] < b[0] ? -1 : 1))));
  const text = pairs.map(([k, v]) => `${k}:${v}`).join(';');
  return createHmac('sha512', secret).update(text).digest('base64');
}

// callbackUrl: where the payout's callbacks go (merchant_callback_url), instead of the project's.
export async function ecommpayRegister(base, paymentId, { project = 91348, amount = 7000, callbackUrl } = {}) {
  const body = {
    general: { project_id: project, payment_id: paymentId,
               ...(callbackUrl ? { merchant_callback_url: callbackUrl } : {}) },
    customer: { id: '16061314', email: 'p.jeltz@mail.com', phone: '44991234567', ip_address: '93.47.230.225' },
    payment: { amount, currency: 'EUR' },
  };
  body.general.signature = ecommpaySign(`sandbox-secret-${project}`, body);
  const r = await fetch(`${base}/v2/payment/payout/registration`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

let counter = 0;
export function uniqueOrder(prefix) {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}
