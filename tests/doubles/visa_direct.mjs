// A test double of Visa Direct's Funds Transfer API (push funds transactions, the original credit
// transaction) and its Transaction Query API, built from Visa's published reference, error codes
// and samples (README.md in this folder). It runs as its own process over mutual TLS: the client
// must present a certificate signed by --client-ca, then HTTP Basic with the project's user id and
// password. Message Level Encryption is on when its three options are given. It keeps a durable
// record of transactions in its state directory.
//   node visa_direct.mjs --port 0 --cert C --key K --client-ca CA --user-id U --password P
//        --state-dir D [--client-cn CN] [--cards FILE] [--completed-duplicate decline|replay|new]
//        [--mle-key-id ID --mle-server-key PEM --mle-client-public-key PEM]
//        [--host 127.0.0.1] [--latency-ms 0]
// Prints "listening on https://<host>:<port>" once it accepts connections; exits 0 on SIGTERM.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCards } from './common/cards.mjs';
import { DurableRecord } from './common/record.mjs';
import { parseOptions, readBody, resetConnection, sendJson, serve, sleep } from './common/server.mjs';
import { checkCredentials } from './visa_direct/auth.mjs';
import { Mle } from './visa_direct/mle.mjs';
import { parseScenario, scenarioOf } from './visa_direct/scenarios.mjs';
import { adminView, newTransaction, pendingAnswer, pushAnswer, queryRecord, settle } from './visa_direct/transactions.mjs';
import { transactionKey, validatePush } from './visa_direct/validate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const kPush = '/visadirect/fundstransfer/v1/pushfundstransactions';
const kQuery = '/visadirect/v1/transactionquery';
const kDefaultTimeoutMs = 30000;   // "within 30 seconds (default) or within the timeout … in the HTTP header"
const kSandboxProcessingMs = 50;   // a timeout header below this gets the 202 (Visa: "between 0-50ms")
const kQueryLimitMax = 10;         // "If no limit parameter is specified, then max of 10 records"
const kQueryParams = ['acquiringBIN', 'rrn', 'stan', 'transactionIdentifier', 'caid', 'transactionStartDate',
                      'transactionEndDate', 'fields', 'limit', 'offset'];

function options() {
  const values = parseOptions({
    'client-ca': { type: 'string' }, 'client-cn': { type: 'string' },
    'user-id': { type: 'string' }, password: { type: 'string' },
    cards: { type: 'string', default: join(here, 'visa_direct_cards.json') },
    'completed-duplicate': { type: 'string', default: 'decline' },
    'mle-key-id': { type: 'string' }, 'mle-server-key': { type: 'string' }, 'mle-client-public-key': { type: 'string' },
  }, ['client-ca', 'user-id', 'password']);
  if (!['decline', 'replay', 'new'].includes(values['completed-duplicate'])) {
    throw new Error('--completed-duplicate is decline, replay or new');
  }
  const mle = ['mle-key-id', 'mle-server-key', 'mle-client-public-key'].filter((name) => values[name]);
  if (mle.length !== 0 && mle.length !== 3) throw new Error('MLE needs --mle-key-id, --mle-server-key and --mle-client-public-key');
  return values;
}

// The Visa Developer Platform's own error document (gateway and platform refusals).
function platformError(res, status, code, message) {
  sendJson(res, status, { responseStatus: { status, code, severity: 'ERROR', message, info: '' } });
}

// Visa Direct's answer to a message that fails validation (HTTP 400, error code 3001).
function validationError(res, errors) {
  sendJson(res, 400, { errorMessage: `API Validation Error: 3001. ${errors.join('; ')}` });
}

function digest(push) {
  return createHash('sha256').update(JSON.stringify(push)).digest('hex');
}

class Double {
  constructor(opts) {
    this.opts = opts;
    this.store = new DurableRecord(opts['state-dir'], { file: 'transactions.jsonl', keyOf: (t) => t.key,
                                                        kinds: ['POST', 'status', 'query', 'reset'],
                                                        sync: !opts['no-fsync'] });
    this.cards = loadCards(readFileSync(opts.cards, 'utf8'), parseScenario);
    this.mle = opts['mle-key-id'] ? new Mle({ keyId: opts['mle-key-id'], serverPrivateKey: readFileSync(opts['mle-server-key']),
                                              clientPublicKey: readFileSync(opts['mle-client-public-key']) }) : null;
    this.answering = new Set();  // keys whose first POST is still being answered (in process at Visa)
  }

  async handle(req, res) {
    let body;
    try {
      body = await readBody(req);
    } catch {
      return platformError(res, 413, '', 'Request entity too large');
    }
    const url = new URL(req.url, 'https://double.invalid');
    if (url.pathname.startsWith('/_double/')) return this.admin(req, res, url);
    if (this.opts.latencyMs) await sleep(this.opts.latencyMs);
    const refusal = checkCredentials({ authorization: req.headers.authorization, peerCn: req.socket.getPeerCertificate()?.subject?.CN },
                                     { userId: this.opts['user-id'], password: this.opts.password, clientCn: this.opts['client-cn'] });
    if (refusal) return platformError(res, 401, refusal.code, refusal.message);
    const answer = this.answerer(res);
    if (url.pathname === kPush) {
      if (req.method !== 'POST') return platformError(res, 405, '', 'Method not allowed');
      return this.push(req, res, body, answer);
    }
    if (req.method !== 'GET') return platformError(res, 405, '', 'Method not allowed');
    if (this.mle && req.headers.keyid !== this.mle.keyId) return platformError(res, 401, '', 'keyId header missing or unknown');
    if (url.pathname.startsWith(`${kPush}/`)) return this.status(url.pathname.slice(kPush.length + 1), answer, res);
    if (url.pathname === kQuery) return this.query(url, answer, res);
    return platformError(res, 404, '', 'Resource not found');
  }

  // answer(status, body, headers): a 2xx or 3xx answer, encrypted when MLE is on.
  answerer(res) {
    return async (status, body, headers = {}) => {
      if (res.destroyed) return;
      sendJson(res, status, this.mle ? await this.mle.encryptResponse(body) : body, headers);
    };
  }

  async requestJson(req, res, body) {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      platformError(res, 415, '', 'Unsupported media type');
      return undefined;
    }
    if (this.mle) {
      const opened = await this.mle.decryptRequest(body, req.headers.keyid);
      if (opened.error) platformError(res, 401, '', opened.error);
      return opened.json;
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      validationError(res, ['request: malformed JSON']);
      return undefined;
    }
  }

  async push(req, res, body, answer) {
    const json = await this.requestJson(req, res, body);
    if (json === undefined) return undefined;
    const checked = validatePush(json);
    if (checked.errors) return validationError(res, checked.errors);
    checked.digest = digest(checked.push);
    const posts = this.store.noteReceived(checked.key, 'POST');
    const existing = this.store.byKey(checked.key);
    // Visa: a re-submitted POST "while the original transaction is still being processed" is a 303.
    if (this.answering.has(checked.key) || existing?.status === 'IN_PROGRESS') {
      return answer(303, pendingAnswer(existing), { Location: `${kPush}/${existing.id}` });
    }
    if (existing?.status === 'COMPLETED' && this.opts['completed-duplicate'] !== 'new') {
      return this.completedDuplicate(existing, checked, answer);
    }
    const timeoutMs = timeoutHeader(req.headers['x-transaction-timeout-ms']);
    return this.process(req, checked, scenarioOf(checked.pan, this.cards), posts === 1, timeoutMs, answer, res);
  }

  // A POST of a transaction that completed before. Visa documents no answer from the original
  // after completion; README.md ("Duplicates") says what each mode follows.
  completedDuplicate(existing, checked, answer) {
    if (this.opts['completed-duplicate'] === 'replay' && existing.digest === checked.digest) {
      return answer(200, pushAnswer(existing));
    }
    const duplicate = newTransaction(checked, { status: 'COMPLETED', actionCode: '94', duplicateOf: existing.id }, Date.now());
    this.store.put(duplicate);
    return answer(200, pushAnswer(duplicate));
  }

  async process(req, checked, scenario, firstPost, timeoutMs, answer, res) {
    const { kind } = scenario;
    if (kind === 'reset-before' && firstPost) {
      this.store.noteReceived(checked.key, 'reset');
      return resetConnection(req.socket);
    }
    if (kind === 'fail') {
      this.store.put(newTransaction(checked, { status: 'FAILED' }, Date.now()));
      return platformError(res, 500, '', 'Internal server error');
    }
    const pending = kind === 'pending';
    const t = newTransaction(checked, { status: pending ? 'IN_PROGRESS' : 'COMPLETED', actionCode: scenario.actionCode,
                                        polls: scenario.polls }, Date.now());
    this.store.put(t);  // durable before any answer, or any reset after it
    if (kind === 'reset-after' && firstPost) {
      this.store.noteReceived(checked.key, 'reset');
      return resetConnection(req.socket);
    }
    if (pending) return answer(202, pendingAnswer(t));
    const processingMs = kind === 'slow' && firstPost ? scenario.seconds * 1000 : kSandboxProcessingMs;
    if (timeoutMs < processingMs) {
      if (kind === 'slow') await this.hold(checked.key, timeoutMs);
      return answer(202, pendingAnswer(t));
    }
    if (kind === 'slow' && firstPost) await this.hold(checked.key, processingMs);
    return answer(200, pushAnswer(t));
  }

  async hold(key, ms) {
    this.answering.add(key);
    try {
      await sleep(ms);
    } finally {
      this.answering.delete(key);
    }
  }

  // GET …/pushfundstransactions/{statusIdentifier}: 202 while the transaction is in progress (one
  // poll spent each time), then the POST's 200 answer.
  status(statusIdentifier, answer, res) {
    let t = this.store.byId(statusIdentifier);
    if (!t) return platformError(res, 404, '', 'Resource not found');
    this.store.noteReceived(t.key, 'status');
    if (t.status === 'IN_PROGRESS') {
      t = t.pollsLeft > 0 ? { ...t, pollsLeft: t.pollsLeft - 1 } : settle(t, Date.now());
      this.store.put(t);
      if (t.status === 'IN_PROGRESS') return answer(202, pendingAnswer(t));
    }
    if (t.status === 'FAILED') return platformError(res, 500, '', 'Internal server error');
    return answer(200, pushAnswer(t));
  }

  query(url, answer, res) {
    const params = Object.fromEntries(url.searchParams);
    const unknown = [...url.searchParams.keys()].find((name) => !kQueryParams.includes(name));
    if (unknown) return validationError(res, [`${unknown}: unknown query parameter`]);
    if (!/^[0-9]{6,11}$/.test(params.acquiringBIN ?? '')) return validationError(res, ['acquiringBIN: 6 to 11 digits']);
    let found;
    if (params.transactionIdentifier !== undefined) {
      found = this.store.all().filter((t) => t.transactionIdentifier === params.transactionIdentifier &&
                                             t.acquiringBin === params.acquiringBIN);
    } else if (/^[0-9]{12}$/.test(params.rrn ?? '') && /^[0-9]{6}$/.test(params.stan ?? '')) {
      const key = transactionKey(params.acquiringBIN, params.rrn, params.stan);
      this.store.noteReceived(key, 'query');
      found = this.store.allByKey(key);
    } else {
      return validationError(res, ['rrn and stan (12 and 6 digits), or transactionIdentifier, are required']);
    }
    if (params.caid !== undefined) found = found.filter((t) => t.cardAcceptorIdCode === params.caid);
    if (found.length === 0) return platformError(res, 404, '', 'No transaction found');
    const limit = Math.min(Number(params.limit ?? kQueryLimitMax) || kQueryLimitMax, kQueryLimitMax);
    const offset = Math.max(Number(params.offset ?? 1) || 1, 1) - 1;
    const page = found.slice(offset, offset + limit).map(queryRecord);
    return answer(200, page, found.length > offset + limit ? { 'x-pagination': 'true' } : {});
  }

  // Plain, for tests only: what arrived under a transaction key (bin/rrn/stan) and what it became.
  admin(req, res, url) {
    if (req.method !== 'GET' || url.pathname !== '/_double/transactions') return platformError(res, 404, '', 'Resource not found');
    const report = (key) => adminView(key, this.store.allByKey(key), this.store.counts(key));
    const key = url.searchParams.get('key');
    if (key !== null) return sendJson(res, 200, report(key));
    return sendJson(res, 200, { transactions: this.store.keys().map(report) });
  }
}

function timeoutHeader(value) {
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : kDefaultTimeoutMs;
}

function main() {
  const opts = options();
  const double = new Double(opts);
  serve({ name: 'visa_direct', opts,
          tls: { cert: readFileSync(opts.cert), key: readFileSync(opts.key), ca: readFileSync(opts['client-ca']),
                 requestCert: true, rejectUnauthorized: true },
          handle: (req, res) => double.handle(req, res), onStop: () => double.store.close(),
          internalError: (res) => platformError(res, 500, '', 'Internal server error') });
}

main();
