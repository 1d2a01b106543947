// The Mastercard Send double, driven as its clients will drive it: a separate process over TLS with
// certificates from a throwaway CA, every request signed by Mastercard's own signer
// (mastercard-oauth1-signer) with a key generated here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { https, makeTls, startDouble as start } from './common/testkit.mjs';

const OAuth = createRequire(import.meta.url)('mastercard-oauth1-signer');
const here = dirname(fileURLToPath(import.meta.url));
const CONSUMER_KEY = 'payoutd-test!consumer';
const PARTNER = 'ptnr_BEeCrYJHh2BXTXPy_PEtp-8DBOo';
const tmp = mkdtempSync(join(tmpdir(), 'mc-double-'));
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// A CA and a server certificate for 127.0.0.1 signed by it, and the client's RSA signing key pair.
function makeKeys() {
  const tls = makeTls(tmp);
  const client = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(tmp, 'client.pub'), client.publicKey.export({ type: 'spki', format: 'pem' }));
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ca: tls.ca,
    signingKey: client.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    otherKey: other.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  };
}
const keys = makeKeys();

function startDouble(stateDir, extra = []) {
  return start(join(here, 'mastercard_send.mjs'), [
    '--port', '0', '--cert', join(tmp, 'server.crt'),
    '--key', join(tmp, 'server.key'), '--client-public-key', join(tmp, 'client.pub'),
    '--state-dir', stateDir, '--consumer-key', CONSUMER_KEY, '--partner-id', PARTNER, ...extra,
  ]);
}

// One HTTPS request; resolves {status, json} or {error: code} when the connection fails.
function raw(base, method, path, options = {}) {
  return https(base, method, path, { ca: keys.ca, ...options });
}

// A request signed exactly as Mastercard's signer signs it.
function call(base, method, path, bodyObject, { key = keys.signingKey, ...rest } = {}) {
  const body = bodyObject === undefined ? '' : JSON.stringify(bodyObject);
  const authorization = OAuth.getAuthorizationHeader(`${base}${path}`, method, body, CONSUMER_KEY, key);
  return raw(base, method, path, { body, headers: { Authorization: authorization }, ...rest });
}

// A header signed over chosen OAuth parameters (to test the clock and the nonce).
function headerWith(base, method, path, body, change) {
  const params = OAuth.getOAuthParams(CONSUMER_KEY, body);
  change(params);
  const uri = `${base}${path}`;
  const sbs = OAuth.getSignatureBaseString(method, OAuth.getBaseUriString(uri),
                                           OAuth.toOAuthParamString(OAuth.extractQueryParams(uri), params));
  params.set('oauth_signature', encodeURIComponent(OAuth.signSignatureBaseString(sbs, keys.signingKey)));
  return OAuth.getAuthorizationString(params);
}

const transfers = `/send/v1/partners/${PARTNER}/transfers`;
function payment(reference, { pan = '5555555555554444', amount = '1800', ...more } = {}) {
  return { payment_transfer: {
    transfer_reference: reference, payment_type: 'P2P', funding_source: 'DEBIT', amount, currency: 'USD',
    sender_account_uri: 'pan:5013040000000018;exp=2099-08;cvc=123',
    sender: { first_name: 'John', last_name: 'Jones' },
    recipient_account_uri: `pan:${pan};exp=2099-08`,
    recipient: { first_name: 'Jane', last_name: 'Smith' }, ...more } };
}
const disbursements = `/send/v1/partners/${PARTNER}/disbursements`;
// The Disbursements spec's sample, abridged: a business (raw: account, deposit account) pays a card.
function disbursement(reference, { pan = '5555555555554444', amount = '1008', ...more } = {}) {
  return { payment_disbursement: {
    disbursement_reference: reference, payment_type: 'BDB', amount, currency: 'USD',
    sender_account_uri: 'raw:12345678901234567890', funding_source: 'DEPOSIT_ACCOUNT',
    sender: { first_name: 'XYZ', last_name: 'DBA MA',
              address: { line1: '123 Corporate Drive', city: 'Chicago', country_subdivision: 'IL',
                         postal_code: '60618', country: 'USA' } },
    recipient_account_uri: `pan:${pan};exp=2077-05`,
    recipient: { first_name: 'Jane', last_name: 'Smith' }, ...more } };
}
let serial = 0;
const ref = (prefix) => `${prefix}_${process.pid}x${++serial}`;

function firstError(r) {
  return r.json.Errors.Error[0];
}

describe('mastercard send double', () => {
  let double;
  let base;
  const stateDir = join(tmp, 'state');
  before(async () => { double = await startDouble(stateDir); base = double.base; });
  after(async () => { await double.stop(); });

  test('approves a HAPPYPATH transfer, answers it in Mastercard\'s shape and records the masked card', async () => {
    const reference = ref('HAPPYPATH');
    const r = await call(base, 'POST', `${transfers}/payment?decline_details=true`, payment(reference));
    assert.equal(r.status, 201);
    const t = r.json.transfer;
    assert.equal(t.status, 'APPROVED');
    assert.equal(t.transfer_reference, reference);
    assert.match(t.id, /^trn_/);
    assert.deepEqual(t.transfer_amount, { value: '1800', currency: 'USD' });
    assert.equal(t.recipient_account_uri, 'pan:************4444');
    assert.equal(t.transaction_history.data.transaction[0].network_status_code, '00');
    const admin = await raw(base, 'GET', `/_double/transfers?ref=${reference}`);
    assert.equal(admin.json.received.POST, 1);
    assert.equal(admin.json.transfer.recipient_account_uri, 'pan:************4444');
    assert.equal(admin.json.transfer.amount, '1800');
    assert.ok(!readFileSync(join(stateDir, 'transfers.jsonl'), 'utf8').includes('5555555555554444'));
  });

  for (const code of ['05', '13', '14', '43', '51', '54', '57', '61', '62', '65', '91', '96']) {
    test(`DCL${code} declines with network code ${code}: 201 with decline_details, 402 without`, async () => {
      const detailed = await call(base, 'POST', `${transfers}/payment?decline_details=true`, payment(ref(`DCL${code}`)));
      assert.equal(detailed.status, 201);
      assert.equal(detailed.json.transfer.status, 'DECLINED');
      assert.equal(detailed.json.transfer.transaction_history.data.transaction[0].network_status_code, code);
      const plain = await call(base, 'POST', `${transfers}/payment`, payment(ref(`DCL${code}`)));
      assert.equal(plain.status, 402);
      assert.equal(firstError(plain).ReasonCode, 'DECLINE');
    });
  }

  test('a test card chooses the scenario when the reference carries none', async () => {
    const r = await call(base, 'POST', `${transfers}/payment?decline_details=true`,
                         payment('0f8e2c1a-5b4d-4e6f-9a7b-3c2d1e0f9a8b', { pan: '5555555555550020' }));
    assert.equal(r.json.transfer.status, 'DECLINED');
    assert.equal(r.json.transfer.transaction_history.data.transaction[0].network_status_code, '51');
  });

  test('refuses a bad signature, a wrong body hash, a stale timestamp, a reused nonce, an unknown key', async () => {
    const reference = ref('HAPPYPATH');
    const body = JSON.stringify(payment(reference));
    const path = `${transfers}/payment`;
    const refusals = [];
    refusals.push(await call(base, 'POST', path, payment(reference), { key: keys.otherKey }));
    const signedOther = OAuth.getAuthorizationHeader(`${base}${path}`, 'POST', body.replace('1800', '1900'),
                                                     CONSUMER_KEY, keys.signingKey);
    refusals.push(await raw(base, 'POST', path, { body, headers: { Authorization: signedOther } }));
    const stale = headerWith(base, 'POST', path, body, (p) => p.set('oauth_timestamp', OAuth.getTimestamp() - 600));
    refusals.push(await raw(base, 'POST', path, { body, headers: { Authorization: stale } }));
    const unknownKey = headerWith(base, 'POST', path, body, (p) => p.set('oauth_consumer_key', 'someone-else'));
    refusals.push(await raw(base, 'POST', path, { body, headers: { Authorization: unknownKey } }));
    refusals.push(await raw(base, 'POST', path, { body }));
    const noHash = headerWith(base, 'POST', path, body, (p) => p.delete('oauth_body_hash'));
    refusals.push(await raw(base, 'POST', path, { body, headers: { Authorization: noHash } }));
    for (const r of refusals) {
      assert.equal(r.status, 401, JSON.stringify(r));
      assert.equal(firstError(r).Source, 'Gateway');
      assert.equal(firstError(r).ReasonCode, 'AUTHENTICATION_FAILED');
    }
    assert.equal((await raw(base, 'GET', `/_double/transfers?ref=${reference}`)).json.received.POST, 0);

    const getPath = `${transfers}?ref=${reference}`;
    const once = headerWith(base, 'GET', getPath, '', () => {});
    assert.equal((await raw(base, 'GET', getPath, { headers: { Authorization: once } })).status, 404);
    const replayed = await raw(base, 'GET', getPath, { headers: { Authorization: once } });
    assert.equal(replayed.status, 401);
    assert.match(firstError(replayed).Description, /nonce/);
  });

  test('retrieves a transfer by id and by reference; an unknown one is 404', async () => {
    const reference = ref('HAPPYPATH');
    const created = (await call(base, 'POST', `${transfers}/payment`, payment(reference))).json.transfer;
    const byId = await call(base, 'GET', `${transfers}/${created.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.json.transfer.id, created.id);
    const byRef = await call(base, 'GET', `${transfers}?ref=${reference}`);
    assert.equal(byRef.status, 200);
    assert.equal(byRef.json.transfers.item_count, '1');
    assert.equal(byRef.json.transfers.data.transfer[0].id, created.id);
    const missing = await call(base, 'GET', `${transfers}?ref=${ref('NEVER')}`);
    assert.equal(missing.status, 404);
    assert.equal(firstError(missing).ReasonCode, 'RESOURCE_ERROR');
    assert.equal((await call(base, 'GET', `${transfers}/trn_none`)).status, 404);
    assert.equal((await call(base, 'GET', transfers)).status, 400);
  });

  test('UNKNOWN, then final after its seconds; PENDING the same', async () => {
    const cases = [['UNK1', 'UNKNOWN', 'APPROVED', '00'], ['UNK1D51', 'UNKNOWN', 'DECLINED', '51'],
                   ['PND1', 'PENDING', 'APPROVED', '00']];
    const refs = [];
    for (const [prefix, first] of cases) {
      const reference = ref(prefix);
      refs.push(reference);
      const r = await call(base, 'POST', `${transfers}/payment?decline_details=true`, payment(reference));
      assert.equal(r.status, 201);
      assert.equal(r.json.transfer.status, first);
      assert.equal((await call(base, 'GET', `${transfers}?ref=${reference}`)).json.transfers.data.transfer[0].status, first);
    }
    await sleep(1300);
    for (const [i, [, first, final, code]] of cases.entries()) {
      const t = (await call(base, 'GET', `${transfers}?ref=${refs[i]}`)).json.transfers.data.transfer[0];
      assert.equal(t.status, final);
      assert.equal(t.original_status, first);
      assert.equal(t.transaction_history.data.transaction[0].network_status_code, code);
    }
  });

  test('refuses invalid requests with Mastercard\'s error format and records nothing', async () => {
    const reference = ref('HAPPYPATH');
    const noAmount = payment(reference);
    delete noAmount.payment_transfer.amount;
    let r = await call(base, 'POST', `${transfers}/payment`, noAmount);
    assert.equal(r.status, 400);
    assert.deepEqual([firstError(r).Source, firstError(r).ReasonCode], ['amount', 'MISSING_REQUIRED_INPUT']);
    assert.equal(firstError(r).Details.Detail[0].Value, '092000');
    r = await call(base, 'POST', `${transfers}/payment`, payment(reference, { amount: 18.0, currency: 'usd', pan: '5555555555554445' }));
    assert.equal(r.status, 400);
    assert.deepEqual(r.json.Errors.Error.map((e) => e.Source).sort(), ['amount', 'currency', 'recipient_account_uri']);
    assert.ok(r.json.Errors.Error.every((e) => e.ReasonCode === 'INVALID_INPUT_VALUE' && e.Recoverable === 'false'));
    r = await call(base, 'POST', `${transfers}/payment`, payment('short'));
    assert.equal(firstError(r).Source, 'transfer_reference');
    r = await call(base, 'POST', `${transfers}/payment?decline_details=yes`, payment(reference));
    assert.equal(firstError(r).Source, 'decline_details');
    r = await call(base, 'POST', `/send/v1/partners/ptnr_other/transfers/payment`, payment(reference));
    assert.equal(r.status, 403);
    assert.equal((await raw(base, 'GET', `/_double/transfers?ref=${reference}`)).json.transfer, null);
  });

  test('a duplicate reference is refused (409); a repeat of the same request is answered from the first', async () => {
    const reference = ref('HAPPYPATH');
    const first = (await call(base, 'POST', `${transfers}/payment`, payment(reference))).json.transfer;
    const dup = await call(base, 'POST', `${transfers}/payment`, payment(reference));
    assert.equal(dup.status, 409);
    assert.deepEqual([firstError(dup).ReasonCode, firstError(dup).Details.Detail[0].Value], ['RESOURCE_ERROR', '110501']);
    const repeat = await call(base, 'POST', `${transfers}/payment?repeat_flag=true`, payment(reference));
    assert.equal(repeat.status, 201);
    assert.equal(repeat.json.transfer.id, first.id);
    const changed = await call(base, 'POST', `${transfers}/payment?repeat_flag=true`, payment(reference, { amount: '1900' }));
    assert.equal(changed.status, 409);
    const admin = (await raw(base, 'GET', `/_double/transfers?ref=${reference}`)).json;
    assert.equal(admin.received.POST, 4);
    assert.equal(admin.transfer.id, first.id);
  });

  test('resets the connection before recording (first POST only) and after recording', async () => {
    const before = ref('RESETBEFORE');
    let r = await call(base, 'POST', `${transfers}/payment`, payment(before));
    assert.equal(r.error, 'ECONNRESET');
    assert.equal((await call(base, 'GET', `${transfers}?ref=${before}`)).status, 404);
    r = await call(base, 'POST', `${transfers}/payment`, payment(before));
    assert.equal(r.json.transfer.status, 'APPROVED');
    const afterRef = ref('RESETAFTER');
    r = await call(base, 'POST', `${transfers}/payment`, payment(afterRef));
    assert.equal(r.error, 'ECONNRESET');
    r = await call(base, 'GET', `${transfers}?ref=${afterRef}`);
    assert.equal(r.json.transfers.data.transfer[0].status, 'APPROVED');
    assert.equal((await raw(base, 'GET', `/_double/transfers?ref=${afterRef}`)).json.received.reset, 1);
  });

  test('answers later than the client waits, the credit already recorded', async () => {
    const reference = ref('SLOW2');
    const r = await call(base, 'POST', `${transfers}/payment`, payment(reference), { timeoutMs: 500 });
    assert.equal(r.error, 'TIMEOUT');
    const got = await call(base, 'GET', `${transfers}?ref=${reference}`);
    assert.equal(got.json.transfers.data.transfer[0].status, 'APPROVED');
  });

  test('a disbursement is approved, answered as a Disbursement and kept apart from transfers', async () => {
    const reference = ref('HAPPYPATH');
    const r = await call(base, 'POST', `${disbursements}/payment?decline_details=true`, disbursement(reference));
    assert.equal(r.status, 201);
    const d = r.json.disbursement;
    assert.equal(d.resource_type, 'disbursement');
    assert.equal(d.disbursement_reference, reference);
    assert.match(d.id, /^dsb_/);
    assert.deepEqual(d.disbursement_amount, { value: '1008', currency: 'USD' });
    assert.deepEqual([d.payment_type, d.funding_source, d.status], ['BDB', 'DEPOSIT_ACCOUNT', 'APPROVED']);
    assert.equal(d.recipient_account_uri, 'pan:************4444');
    const byRef = await call(base, 'GET', `${disbursements}?ref=${reference}`);
    assert.equal(byRef.status, 200);
    assert.equal(byRef.json.disbursements.item_count, '1');
    assert.equal(byRef.json.disbursements.data.disbursement[0].id, d.id);
    assert.equal((await call(base, 'GET', `${disbursements}/${d.id}`)).json.disbursement.id, d.id);
    assert.equal((await call(base, 'GET', `${transfers}?ref=${reference}`)).status, 404);  // another API
    const admin = (await raw(base, 'GET', `/_double/disbursements?ref=${reference}`)).json;
    assert.deepEqual([admin.received.POST, admin.disbursement.payment_type], [1, 'BDB']);
    assert.equal((await raw(base, 'GET', `/_double/transfers?ref=${reference}`)).json.transfer, null);
    assert.ok(!readFileSync(join(stateDir, 'disbursements.jsonl'), 'utf8').includes('5555555555554444'));
    // Without funding_source, Mastercard funds a disbursement from a deposit account.
    const plain = disbursement(ref('HAPPYPATH'));
    delete plain.payment_disbursement.funding_source;
    const defaulted = await call(base, 'POST', `${disbursements}/payment`, plain);
    assert.equal(defaulted.json.disbursement.funding_source, 'DEPOSIT_ACCOUNT');
  });

  test('disbursements follow the same scenarios: declines both ways, UNKNOWN then final, duplicates', async () => {
    const detailed = await call(base, 'POST', `${disbursements}/payment?decline_details=true`, disbursement(ref('DCL54')));
    assert.equal(detailed.status, 201);
    assert.equal(detailed.json.disbursement.status, 'DECLINED');
    assert.equal(detailed.json.disbursement.transaction_history.data.transaction[0].network_status_code, '54');
    const plain = await call(base, 'POST', `${disbursements}/payment`, disbursement(ref('DCL05')));
    assert.deepEqual([plain.status, firstError(plain).ReasonCode, firstError(plain).Source],
                     [402, 'DECLINE', 'payment_disbursement']);
    const byCard = await call(base, 'POST', `${disbursements}/payment?decline_details=true`,
                              disbursement(`${process.pid}x${++serial}card`, { pan: '5555555555550020' }));
    assert.equal(byCard.json.disbursement.transaction_history.data.transaction[0].network_status_code, '51');
    const unknown = ref('UNK1');
    assert.equal((await call(base, 'POST', `${disbursements}/payment`, disbursement(unknown))).json.disbursement.status, 'UNKNOWN');
    await sleep(1100);
    const settled = (await call(base, 'GET', `${disbursements}?ref=${unknown}`)).json.disbursements.data.disbursement[0];
    assert.deepEqual([settled.status, settled.original_status], ['APPROVED', 'UNKNOWN']);
    const dup = await call(base, 'POST', `${disbursements}/payment`, disbursement(unknown));
    assert.deepEqual([dup.status, firstError(dup).Source], [409, 'disbursement_reference']);
  });

  test('refuses disbursements the Disbursements spec refuses, recording nothing', async () => {
    const reference = ref('HAPPYPATH');
    const cases = [
      [{ payment_type: 'P2P' }, 'payment_type'],                       // BDB GDB AMS CBP B2B
      [{ funding_source: 'DEBIT' }, 'funding_source'],                 // raw: needs a non-card source
      [{ recipient_account_uri: 'acct-ref:abc' }, 'recipient_account_uri'],
      [{ sender: { first_name: 'XYZ', last_name: 'DBA', address: { line1: '1 Main St' } } }, 'sender.address.city'],
      [{ recipient: { first_name: 'Jane' } }, 'recipient.last_name'],
    ];
    for (const [change, source] of cases) {
      const r = await call(base, 'POST', `${disbursements}/payment`, disbursement(reference, change));
      assert.equal(r.status, 400, source);
      assert.ok(r.json.Errors.Error.some((e) => e.Source === source), `${source}: ${JSON.stringify(r.json)}`);
    }
    const noReference = disbursement(reference);
    delete noReference.payment_disbursement.disbursement_reference;
    const r = await call(base, 'POST', `${disbursements}/payment`, noReference);
    assert.deepEqual([firstError(r).Source, firstError(r).ReasonCode], ['disbursement_reference', 'MISSING_REQUIRED_INPUT']);
    // A transfer's body is not a disbursement, nor the other way round.
    assert.equal((await call(base, 'POST', `${disbursements}/payment`, payment(reference))).status, 400);
    assert.equal((await call(base, 'POST', `${transfers}/payment`, disbursement(reference))).status, 400);
    // Sender and recipient are optional in a disbursement.
    const bare = disbursement(ref('HAPPYPATH'));
    delete bare.payment_disbursement.sender;
    delete bare.payment_disbursement.recipient;
    assert.equal((await call(base, 'POST', `${disbursements}/payment`, bare)).status, 201);
    assert.equal((await raw(base, 'GET', `/_double/disbursements?ref=${reference}`)).json.disbursement, null);
  });

  test('keeps its record across a restart, including a transfer still to become final', async () => {
    const approved = ref('HAPPYPATH');
    const unknown = ref('UNK2D05');
    const id = (await call(base, 'POST', `${transfers}/payment`, payment(approved))).json.transfer.id;
    await call(base, 'POST', `${transfers}/payment`, payment(unknown));
    await double.stop('SIGKILL');
    double = await startDouble(stateDir);
    base = double.base;
    const got = await call(base, 'GET', `${transfers}?ref=${approved}`);
    assert.equal(got.json.transfers.data.transfer[0].id, id);
    assert.equal((await call(base, 'POST', `${transfers}/payment`, payment(approved))).status, 409);
    assert.equal((await raw(base, 'GET', `/_double/transfers?ref=${approved}`)).json.received.POST, 2);
    await sleep(2100);
    const settled = (await call(base, 'GET', `${transfers}?ref=${unknown}`)).json.transfers.data.transfer[0];
    assert.equal(settled.status, 'DECLINED');
  });

  test('keeps its disbursements across a restart', async () => {
    const reference = ref('HAPPYPATH');
    const id = (await call(base, 'POST', `${disbursements}/payment`, disbursement(reference))).json.disbursement.id;
    await double.stop('SIGKILL');
    double = await startDouble(stateDir);
    base = double.base;
    const got = await call(base, 'GET', `${disbursements}?ref=${reference}`);
    assert.equal(got.json.disbursements.data.disbursement[0].id, id);
    assert.equal((await call(base, 'POST', `${disbursements}/payment`, disbursement(reference))).status, 409);
  });
});

describe('mastercard send double, duplicates replayed', () => {
  test('--duplicate-reference replay answers an identical duplicate from the first', async () => {
    const double = await startDouble(join(tmp, 'replay'), ['--duplicate-reference', 'replay']);
    try {
      const reference = ref('DCL05');
      const first = await call(double.base, 'POST', `${transfers}/payment?decline_details=true`, payment(reference));
      const again = await call(double.base, 'POST', `${transfers}/payment?decline_details=true`, payment(reference));
      assert.equal(again.status, 201);
      assert.equal(again.json.transfer.id, first.json.transfer.id);
      const plain = await call(double.base, 'POST', `${transfers}/payment`, payment(reference));
      assert.equal(plain.status, 402);
    } finally {
      await double.stop();
    }
  });
});

describe('mastercard send double, latency', () => {
  test('--latency-ms delays every answer', async () => {
    const double = await startDouble(join(tmp, 'latency'), ['--latency-ms', '300']);
    try {
      const started = Date.now();
      const r = await call(double.base, 'POST', `${transfers}/payment`, payment(ref('HAPPYPATH')));
      assert.equal(r.status, 201);
      assert.ok(Date.now() - started >= 300);
    } finally {
      await double.stop();
    }
  });
});

after(() => rmSync(tmp, { recursive: true, force: true }));
