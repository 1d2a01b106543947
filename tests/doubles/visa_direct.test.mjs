// The Visa Direct double, driven as its clients will drive it: a separate process over mutual TLS
// with certificates from a throwaway CA, HTTP Basic credentials, and (in its own suite) Message
// Level Encryption done by `jose` on the client's side with keys generated here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { https, makeClientCert, makeTls, startDouble } from './common/testkit.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const USER = 'payoutd-visa-user';
const PASSWORD = 'pa55:word';
const BIN = '408999';
const PUSH = '/visadirect/fundstransfer/v1/pushfundstransactions';
const tmp = mkdtempSync(join(tmpdir(), 'visa-double-'));
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const tls = makeTls(tmp);
const client = makeClientCert(tls, 'client', { cn: 'payoutd-project' });
const stranger = makeClientCert(tls, 'stranger', { cn: 'payoutd-project', byOtherCa: true });
const otherProject = makeClientCert(tls, 'other', { cn: 'someone-else' });

function start(stateDir, extra = []) {
  return startDouble(join(here, 'visa_direct.mjs'), [
    '--port', '0', '--cert', tls.path('server.crt'), '--key', tls.path('server.key'),
    '--client-ca', tls.path('ca.crt'), '--user-id', USER, '--password', PASSWORD,
    '--state-dir', stateDir, ...extra]);
}

const basic = (user = USER, password = PASSWORD) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

// One request with the project's certificate and credentials unless told otherwise.
function call(base, method, path, body, { cert = client, headers = {}, ...rest } = {}) {
  return https(base, method, path, {
    ca: tls.ca, cert: cert?.cert, key: cert?.key, body: body === undefined ? '' : JSON.stringify(body),
    headers: { Authorization: basic(), ...headers }, ...rest });
}

let stan = 100000 + (process.pid % 800000);
// A push as Visa's published sandbox sample writes it, with a fresh STAN and an RRN built from it.
function push({ pan = '4957030420210462', amount = '124.05', currency = 'USD', ...more } = {}) {
  stan += 1;
  const now = new Date();
  const day = Math.floor((now - Date.UTC(now.getUTCFullYear(), 0, 0)) / 86400000);
  const rrn = `${now.getUTCFullYear() % 10}${String(day).padStart(3, '0')}${String(now.getUTCHours()).padStart(2, '0')}${stan}`;
  return {
    systemsTraceAuditNumber: String(stan), retrievalReferenceNumber: rrn,
    localTransactionDateTime: now.toISOString().slice(0, 19), acquiringBin: BIN, acquirerCountryCode: '840',
    businessApplicationId: 'AA', merchantCategoryCode: '6012', sourceOfFundsCode: '05',
    cardAcceptor: { name: 'Visa Inc. USA-Foster City', terminalId: 'TID-9999', idCode: 'CA-IDCode-77765',
                    address: { country: 'USA', county: 'San Mateo', state: 'CA', zipCode: '94404' } },
    pointOfServiceData: { motoECIIndicator: '0', panEntryMode: '90', posConditionCode: '00' },
    recipientName: 'rohan', recipientPrimaryAccountNumber: pan, amount, transactionCurrencyCode: currency,
    senderAccountNumber: '4957030420210454', senderAddress: '901 Metro Center Blvd', senderCity: 'Foster City',
    senderCountryCode: '124', senderName: 'Mohammed Qasim', senderStateCode: 'CA', ...more,
  };
}
const keyOf = (p) => `${p.acquiringBin}/${p.retrievalReferenceNumber}/${p.systemsTraceAuditNumber}`;
const queryPath = (p) => `/visadirect/v1/transactionquery?acquiringBIN=${p.acquiringBin}&rrn=${p.retrievalReferenceNumber}&stan=${p.systemsTraceAuditNumber}`;
const admin = async (base, p) => (await call(base, 'GET', `/_double/transactions?key=${keyOf(p)}`)).json;

describe('visa direct double', () => {
  let double;
  let base;
  const stateDir = join(tmp, 'state');
  before(async () => { double = await start(stateDir); base = double.base; });
  after(async () => { await double.stop(); });

  test('approves Visa\'s sample push with actionCode 00, an approval code and a transaction id; records the masked card once', async () => {
    const p = push();
    const r = await call(base, 'POST', PUSH, p);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.actionCode, '00');
    assert.match(r.json.approvalCode, /^[0-9A-F]{6}$/);
    assert.match(String(r.json.transactionIdentifier), /^[1-9][0-9]{14}$/);
    assert.equal(r.json.responseCode, '5');
    assert.match(r.json.transmissionDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const a = await admin(base, p);
    assert.equal(a.credited, 1);
    assert.equal(a.received.POST, 1);
    assert.equal(a.transactions[0].recipientPrimaryAccountNumber, '************0462');
    assert.equal(a.transactions[0].minorUnits, 12405);
    assert.ok(!readFileSync(join(stateDir, 'transactions.jsonl'), 'utf8').includes('4957030420210462'));
  });

  const declines = { '4111110000000013': '05', '4111110000000021': '51', '4111110000000039': '14',
                     '4111110000000047': '54', '4111110000000054': '57', '4111110000000062': '59',
                     '4111110000000070': '61', '4111110000000088': '62', '4111110000000096': '91',
                     '4111110000000104': '93', '4111110000000112': '96', '4111110000000120': '43' };
  for (const [pan, code] of Object.entries(declines)) {
    test(`card ${pan} is declined in a 200 with actionCode ${code}, credited nothing`, async () => {
      const p = push({ pan });
      const r = await call(base, 'POST', PUSH, p);
      assert.equal(r.status, 200);
      assert.equal(r.json.actionCode, code);
      assert.equal(r.json.approvalCode, undefined);
      assert.equal((await admin(base, p)).credited, 0);
      const q = await call(base, 'GET', queryPath(p));
      assert.deepEqual([q.json[0].statusCode, q.json[0].actionCode], ['COMPLETED', code]);
    });
  }

  test('mutual TLS: no client certificate, or one from another CA, fails the handshake', async () => {
    const none = await call(base, 'POST', PUSH, push(), { cert: null });
    assert.ok(none.error && none.status === undefined, JSON.stringify(none));
    const foreign = await call(base, 'POST', PUSH, push(), { cert: stranger });
    assert.ok(foreign.error && foreign.status === undefined, JSON.stringify(foreign));
  });

  test('HTTP Basic: missing or wrong credentials are 401 in the platform\'s format, nothing recorded', async () => {
    const p = push();
    const missing = await call(base, 'POST', PUSH, p, { headers: { Authorization: '' } });
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.json.responseStatus, { status: 401, code: '9124', severity: 'ERROR',
                                                    message: 'Expected input credential was not present', info: '' });
    const wrong = await call(base, 'POST', PUSH, p, { headers: { Authorization: basic(USER, 'guess') } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.responseStatus.code, '9123');
    const blank = await call(base, 'POST', PUSH, p, { headers: { Authorization: basic(USER, '') } });
    assert.equal(blank.json.responseStatus.code, '9124');
    assert.equal((await admin(base, p)).received.POST, 0);
  });

  test('validation: missing fields, too many decimals for the currency, a bad RRN, sender rules; 400 3001, nothing recorded', async () => {
    const cases = [
      [push({ amount: '1.005' }), 'amount'],
      [push({ amount: 10.5, currency: 'JPY' }), 'amount'],
      [push({ amount: '1.235', currency: 'KWD' }), 'amount'],
      [push({ amount: '1.2345', currency: '414' }), 'amount'],
      [push({ retrievalReferenceNumber: '640012000001' }), 'retrievalReferenceNumber'],
      [push({ systemsTraceAuditNumber: '12345' }), 'systemsTraceAuditNumber'],
      [push({ localTransactionDateTime: '2026-02-30T10:00:00' }), 'localTransactionDateTime'],
      [push({ businessApplicationId: 'XX' }), 'businessApplicationId'],
      [push({ recipientPrimaryAccountNumber: '4111' }), 'recipientPrimaryAccountNumber'],
      [push({ businessApplicationId: 'FD', senderAccountNumber: undefined }), 'senderReference'],
      [push({ senderStateCode: undefined }), 'senderStateCode'],
      [push({ sourceOfFundsCode: undefined }), 'sourceOfFundsCode'],
      [push({ transactionCurrencyCode: 'XYZ' }), 'transactionCurrencyCode'],
      [{ ...push(), cardAcceptor: { name: 'n', terminalId: 't', idCode: 'i', address: { country: 'USA' } } }, 'cardAcceptor.address.state'],
      [{ ...push(), acquiringBin: undefined }, 'acquiringBin'],
    ];
    for (const [p, field] of cases) {
      const r = await call(base, 'POST', PUSH, p);
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.match(r.json.errorMessage, /^API Validation Error: 3001\. /);
      assert.ok(r.json.errorMessage.includes(`${field}:`), r.json.errorMessage);
      if (p.acquiringBin) assert.equal((await admin(base, p)).transactions.length, 0);
    }
    const ok = [push({ amount: 124.5 }), push({ amount: '1240', currency: 'JPY' }), push({ amount: '1.230', currency: 'KWD' }),
                push({ businessApplicationId: 'FD', senderAccountNumber: undefined, senderReference: 'PAYOUT42' })];
    for (const p of ok) assert.equal((await call(base, 'POST', PUSH, p)).status, 200);
    const text = await call(base, 'POST', PUSH, push(), { headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415);
  });

  test('202 with a status identifier; the status GET answers 202 for N polls, then 200 final; the query says IN_PROGRESS then COMPLETED', async () => {
    for (const [pan, code] of [['4111110000000138', '00'], ['4111110000000146', '05']]) {
      const p = push({ pan });
      const polls = pan.endsWith('138') ? 2 : 1;
      const r = await call(base, 'POST', PUSH, p);
      assert.equal(r.status, 202);
      const id = r.json.statusIdentifier;
      assert.match(id, /^[0-9a-f]{24}$/);
      assert.equal((await call(base, 'GET', queryPath(p))).json[0].statusCode, 'IN_PROGRESS');
      for (let i = 0; i < polls; i++) assert.equal((await call(base, 'GET', `${PUSH}/${id}`)).status, 202);
      const final = await call(base, 'GET', `${PUSH}/${id}`);
      assert.equal(final.status, 200);
      assert.equal(final.json.actionCode, code);
      const q = (await call(base, 'GET', queryPath(p))).json[0];
      assert.deepEqual([q.statusCode, q.actionCode], ['COMPLETED', code]);
      assert.equal((await admin(base, p)).received.status, polls + 1);
    }
    assert.equal((await call(base, 'GET', `${PUSH}/0123456789abcdef01234567`)).status, 404);
  });

  test('X-Transaction-Timeout-MS below the processing time gets a 202; the status GET then has the outcome', async () => {
    const p = push();
    const r = await call(base, 'POST', PUSH, p, { headers: { 'X-Transaction-Timeout-MS': '1' } });
    assert.equal(r.status, 202);
    const final = await call(base, 'GET', `${PUSH}/${r.json.statusIdentifier}`);
    assert.deepEqual([final.status, final.json.actionCode], [200, '00']);
  });

  test('a duplicate while the original is in progress is 303 to the status URL; after completion it is declined 94, credited once', async () => {
    const p = push({ pan: '4111110000000138' });
    const first = await call(base, 'POST', PUSH, p);
    const dup = await call(base, 'POST', PUSH, p);
    assert.equal(dup.status, 303);
    assert.equal(dup.headers.location, `${PUSH}/${first.json.statusIdentifier}`);
    assert.equal(dup.json.statusIdentifier, first.json.statusIdentifier);
    const done = push();
    await call(base, 'POST', PUSH, done);
    const again = await call(base, 'POST', PUSH, done);
    assert.deepEqual([again.status, again.json.actionCode], [200, '94']);
    const a = await admin(base, done);
    assert.deepEqual([a.credited, a.received.POST, a.transactions.length], [1, 2, 2]);
    const q = (await call(base, 'GET', queryPath(done))).json;
    assert.deepEqual(q.map((record) => record.actionCode), ['00', '94']);
  });

  test('a slow answer after the credit: the client times out, the query finds it completed, a resend meanwhile is 303', async () => {
    const p = push({ pan: '4111110000000153' });
    const r = await call(base, 'POST', PUSH, p, { timeoutMs: 500 });
    assert.equal(r.error, 'TIMEOUT');
    const q = (await call(base, 'GET', queryPath(p))).json[0];
    assert.deepEqual([q.statusCode, q.actionCode], ['COMPLETED', '00']);
    assert.equal((await call(base, 'POST', PUSH, p)).status, 303);
    const timed = push({ pan: '4111110000000153' });
    const early = await call(base, 'POST', PUSH, timed, { headers: { 'X-Transaction-Timeout-MS': '300' } });
    assert.equal(early.status, 202);
    assert.equal((await call(base, 'GET', `${PUSH}/${early.json.statusIdentifier}`)).json.actionCode, '00');
    assert.equal((await admin(base, timed)).credited, 1);
  });

  test('resets before recording (first POST only) and after recording', async () => {
    const p = push({ pan: '4111110000000161' });
    assert.equal((await call(base, 'POST', PUSH, p)).error, 'ECONNRESET');
    assert.equal((await call(base, 'GET', queryPath(p))).status, 404);
    assert.equal((await call(base, 'POST', PUSH, p)).json.actionCode, '00');
    const a = push({ pan: '4111110000000179' });
    assert.equal((await call(base, 'POST', PUSH, a)).error, 'ECONNRESET');
    const q = (await call(base, 'GET', queryPath(a))).json[0];
    assert.deepEqual([q.statusCode, q.actionCode], ['COMPLETED', '00']);
    assert.equal((await admin(base, a)).received.reset, 1);
  });

  test('a 500 whose transaction Visa received and rejected: the query says FAILED', async () => {
    const p = push({ pan: '4111110000000187' });
    const r = await call(base, 'POST', PUSH, p);
    assert.equal(r.status, 500);
    assert.equal(r.json.responseStatus.status, 500);
    const q = (await call(base, 'GET', queryPath(p))).json[0];
    assert.equal(q.statusCode, 'FAILED');
    assert.equal(q.actionCode, undefined);
  });

  test('the Transaction Query: by transactionIdentifier, its record fields, no record, bad parameters', async () => {
    const p = push();
    const r = await call(base, 'POST', PUSH, p);
    const byId = await call(base, 'GET', `/visadirect/v1/transactionquery?acquiringBIN=${BIN}&transactionIdentifier=${r.json.transactionIdentifier}`);
    assert.equal(byId.status, 200);
    const record = byId.json[0];
    assert.deepEqual([record.statusCode, record.actionCode, record.approvalCode, record.transactionType],
                     ['COMPLETED', '00', r.json.approvalCode, 'CRED VOUCHER']);
    assert.deepEqual([record.acquiringBin, record.retrievalReferenceNumber, record.systemsTraceAuditNumber],
                     [BIN, p.retrievalReferenceNumber, p.systemsTraceAuditNumber]);
    assert.match(record.transactionDate, /^\d\d-\d\d-\d{4}$/);
    assert.match(record.transactionTime, /^\d\d:\d\d:\d\d$/);
    const none = await call(base, 'GET', `/visadirect/v1/transactionquery?acquiringBIN=${BIN}&rrn=612300123456&stan=123456`);
    assert.equal(none.status, 404);
    assert.equal(none.json.responseStatus.status, 404);
    assert.equal((await call(base, 'GET', `/visadirect/v1/transactionquery?acquiringBIN=${BIN}&rrn=612300123456`)).status, 400);
    assert.equal((await call(base, 'GET', `/visadirect/v1/transactionquery?acquiringBIN=${BIN}&ref=x`)).status, 400);
    assert.equal((await call(base, 'GET', `/visadirect/v1/transactionquery?rrn=${p.retrievalReferenceNumber}&stan=${p.systemsTraceAuditNumber}`)).status, 400);
  });

  test('keeps its record across a kill -9: the approved one, a pending one\'s polls, and the duplicate rule', async () => {
    const approved = push();
    await call(base, 'POST', PUSH, approved);
    const pending = push({ pan: '4111110000000138' });
    const id = (await call(base, 'POST', PUSH, pending)).json.statusIdentifier;
    assert.equal((await call(base, 'GET', `${PUSH}/${id}`)).status, 202);
    await double.stop('SIGKILL');
    double = await start(stateDir);
    base = double.base;
    assert.equal((await call(base, 'GET', queryPath(approved))).json[0].actionCode, '00');
    assert.equal((await call(base, 'POST', PUSH, approved)).json.actionCode, '94');
    assert.equal((await admin(base, approved)).credited, 1);
    assert.equal((await call(base, 'GET', `${PUSH}/${id}`)).status, 202);
    assert.equal((await call(base, 'GET', `${PUSH}/${id}`)).json.actionCode, '00');
  });
});

describe('visa direct double, options', () => {
  test('--client-cn: a certificate of another project from the same CA is 401 9125', async () => {
    const double = await start(join(tmp, 'cn'), ['--client-cn', 'payoutd-project']);
    try {
      const r = await call(double.base, 'POST', PUSH, push(), { cert: otherProject });
      assert.equal(r.status, 401);
      assert.equal(r.json.responseStatus.code, '9125');
      assert.equal((await call(double.base, 'POST', PUSH, push())).status, 200);
    } finally {
      await double.stop();
    }
  });

  test('--completed-duplicate replay answers from the first; new credits again', async () => {
    const replay = await start(join(tmp, 'replay'), ['--completed-duplicate', 'replay']);
    const fresh = await start(join(tmp, 'new'), ['--completed-duplicate', 'new']);
    try {
      const p = push();
      const first = await call(replay.base, 'POST', PUSH, p);
      const again = await call(replay.base, 'POST', PUSH, p);
      assert.deepEqual(again.json, first.json);
      assert.equal((await admin(replay.base, p)).credited, 1);
      await call(fresh.base, 'POST', PUSH, p);
      const second = await call(fresh.base, 'POST', PUSH, p);
      assert.equal(second.json.actionCode, '00');
      assert.equal((await admin(fresh.base, p)).credited, 2);
    } finally {
      await replay.stop();
      await fresh.stop();
    }
  });

  test('--latency-ms delays every answer', async () => {
    const double = await start(join(tmp, 'latency'), ['--latency-ms', '300']);
    try {
      const started = Date.now();
      assert.equal((await call(double.base, 'POST', PUSH, push())).status, 200);
      assert.ok(Date.now() - started >= 300);
    } finally {
      await double.stop();
    }
  });
});

describe('visa direct double, message level encryption', () => {
  const KEY_ID = 'mle-key-7f3a';
  const server = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(tmp, 'mle-server.key'), server.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(tmp, 'mle-client.pub'), clientKeys.publicKey.export({ type: 'spki', format: 'pem' }));
  let double;
  before(async () => {
    double = await start(join(tmp, 'mle'), ['--mle-key-id', KEY_ID, '--mle-server-key', join(tmp, 'mle-server.key'),
                                            '--mle-client-public-key', join(tmp, 'mle-client.pub')]);
  });
  after(async () => { await double.stop(); });

  const seal = (object, header = {}) => new CompactEncrypt(Buffer.from(JSON.stringify(object)))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A128GCM', typ: 'JWE', kid: KEY_ID, iat: Date.now(), ...header })
    .encrypt(server.publicKey);
  const open = async (r) => {
    const { plaintext, protectedHeader } = await compactDecrypt(r.json.encData, clientKeys.privateKey);
    assert.deepEqual([protectedHeader.alg, protectedHeader.enc, protectedHeader.kid], ['RSA-OAEP-256', 'A128GCM', KEY_ID]);
    assert.ok(protectedHeader.iat > 1e12);
    return JSON.parse(Buffer.from(plaintext).toString('utf8'));
  };

  test('an encrypted push is answered encrypted to the client\'s key; so is the query', async () => {
    const p = push();
    const r = await call(double.base, 'POST', PUSH, { encData: await seal(p) }, { headers: { keyId: KEY_ID } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['encData']);
    assert.equal((await open(r)).actionCode, '00');
    const q = await call(double.base, 'GET', queryPath(p), undefined, { headers: { keyId: KEY_ID } });
    assert.equal((await open(q))[0].statusCode, 'COMPLETED');
  });

  test('a plain body, a missing keyId, another kid or iat in seconds is refused with 401, nothing recorded', async () => {
    const p = push();
    const refusals = [
      await call(double.base, 'POST', PUSH, p, { headers: { keyId: KEY_ID } }),
      await call(double.base, 'POST', PUSH, { encData: await seal(p) }),
      await call(double.base, 'POST', PUSH, { encData: await seal(p, { kid: 'other' }) }, { headers: { keyId: KEY_ID } }),
      await call(double.base, 'POST', PUSH, { encData: await seal(p, { iat: Math.floor(Date.now() / 1000) }) },
                 { headers: { keyId: KEY_ID } }),
      await call(double.base, 'POST', PUSH, { encData: 'not.a.jwe.at.all' }, { headers: { keyId: KEY_ID } }),
    ];
    for (const r of refusals) {
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.responseStatus.status, 401);
    }
    assert.equal((await admin(double.base, p)).received.POST, 0);
    const invalid = await call(double.base, 'POST', PUSH, { encData: await seal({ ...p, amount: '1.001' }) }, { headers: { keyId: KEY_ID } });
    assert.equal(invalid.status, 400);
    assert.match(invalid.json.errorMessage, /amount/);
  });
});

after(() => rmSync(tmp, { recursive: true, force: true }));
