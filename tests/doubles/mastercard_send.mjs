// A test double of Mastercard Send's Payment Transfer API (person-to-person transfers) and its
// Disbursements API (a business paying a person), built from Mastercard's published references and
// sandbox scenarios (README.md in this folder). It runs as its own process over TLS 1.2+, verifies
// every request's OAuth 1.0a signature with Mastercard's mastercard-oauth1-signer, and keeps a
// durable record of each API's payments in its state directory.
//   node mastercard_send.mjs --port 0 --cert C --key K --client-public-key P --state-dir D
//        --consumer-key CK --partner-id PID [--cards FILE] [--duplicate-reference refuse|replay]
//        [--host 127.0.0.1] [--skew-seconds 300] [--latency-ms 0]
// Prints "listening on https://<host>:<port>" once it accepts connections; exits 0 on SIGTERM.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCards } from './common/cards.mjs';
import { DurableRecord } from './common/record.mjs';
import { parseOptions, readBody, resetConnection, sendJson, serve, sleep } from './common/server.mjs';
import { OAuthVerifier } from './mastercard_send/oauth.mjs';
import { parseScenario, scenarioOf } from './mastercard_send/scenarios.mjs';
import { adminView, kApis, newPayment, publicView, settle } from './mastercard_send/transfers.mjs';
import { errorBody, serviceError, validateDisbursement, validateTransfer } from './mastercard_send/validate.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function options() {
  const values = parseOptions({
    'client-public-key': { type: 'string' },
    'consumer-key': { type: 'string' }, 'partner-id': { type: 'string' },
    cards: { type: 'string', default: join(here, 'mastercard_send_cards.json') },
    'duplicate-reference': { type: 'string', default: 'refuse' },
    'skew-seconds': { type: 'string', default: '300' },
  }, ['client-public-key', 'consumer-key', 'partner-id']);
  if (!['refuse', 'replay'].includes(values['duplicate-reference'])) {
    throw new Error('--duplicate-reference is refuse or replay');
  }
  return values;
}

function send(res, status, body) {
  sendJson(res, status, body, { 'correlation-id': body?.Errors?.Error?.[0]?.RequestId ?? `cid_${Date.now()}` });
}

function fail(res, status, items) {
  send(res, status, errorBody(Array.isArray(items) ? items : [items]));
}

// The gateway's own format for a request it refuses before the service sees it (developer.mastercard.com,
// "Gateway Error Messages": Source "Gateway", a boolean Recoverable, null Details).
function gatewayRefusal(res, description) {
  send(res, 401, errorBody([{ Source: 'Gateway', ReasonCode: 'AUTHENTICATION_FAILED', Description: description,
                              Recoverable: false, Details: null }]));
}

// The query must hold only `allowed` names, each once, with a value from its list (or any value
// for null). Answers the parameters, or an error item.
function checkQuery(url, allowed) {
  const params = {};
  for (const [name, value] of url.searchParams) {
    if (!(name in allowed)) return serviceError(name, 'INVALID_INPUT_VALUE', `Unknown parameter ${name}`, '082000');
    if (name in params) return serviceError(name, 'INVALID_INPUT_VALUE', `Repeated parameter ${name}`, '082000');
    if (allowed[name] && !allowed[name].includes(value)) {
      return serviceError(name, 'INVALID_INPUT_VALUE', `Invalid value of ${name}`, '082000');
    }
    params[name] = value;
  }
  return params;
}

const kBoolean = ['true', 'false'];
const kFormat = ['JSON'];  // the 2019 reference app signs ?Format=JSON; the double speaks JSON only
const kValidate = { transfers: validateTransfer, disbursements: validateDisbursement };

class Double {
  constructor(opts) {
    this.opts = opts;
    // One record per API: each keeps its own references (transfers.jsonl, disbursements.jsonl).
    this.stores = Object.fromEntries(Object.values(kApis).map((api) => [api.collection,
      new DurableRecord(opts['state-dir'], { file: `${api.collection}.jsonl`, kinds: ['POST', 'GET', 'reset'],
                                             keyOf: (payment) => payment[api.reference],
                                             sync: !opts['no-fsync'] })]));
    this.cards = loadCards(readFileSync(opts.cards, 'utf8'), parseScenario);
    this.verifier = new OAuthVerifier({ consumerKey: opts['consumer-key'],
                                        publicKey: readFileSync(opts['client-public-key']),
                                        skewSeconds: Number(opts['skew-seconds']) });
    this.base = `/send/v1/partners/${opts['partner-id']}/`;
  }

  async handle(req, res) {
    let body;
    try {
      body = await readBody(req);
    } catch {
      fail(res, 413, serviceError('body', 'INVALID_INPUT_VALUE', 'Request body too large', '082000'));
      return;
    }
    const url = new URL(req.url, 'https://double.invalid');
    if (url.pathname.startsWith('/_double/')) return this.admin(req, res, url);
    if (this.opts.latencyMs) await sleep(this.opts.latencyMs);
    const host = req.headers.host;
    const refusal = host ? this.verifier.verify({ method: req.method, uri: `https://${host}${req.url}`,
                                                  authorization: req.headers.authorization, body })
                         : 'no Host header';
    if (refusal) return gatewayRefusal(res, refusal);
    return this.route(req, res, url, body);
  }

  route(req, res, url, body) {
    const path = url.pathname;
    if (!path.startsWith('/send/v1/partners/')) return this.notFound(res, 'path');
    if (!path.startsWith(`${this.base}`)) {
      return fail(res, 403, serviceError('partnerId', 'INVALID_INPUT_VALUE', 'Unknown partner', '082000'));
    }
    const m = path.slice(this.base.length).match(/^(transfers|disbursements)(\/payment|\/[A-Za-z0-9_-]{1,64}|)$/);
    if (!m) return this.notFound(res, 'path');
    const [, collection, rest] = m;
    const api = kApis[collection];
    const wanted = rest === '/payment' ? 'POST' : 'GET';
    if (req.method !== wanted) {
      return fail(res, 405, serviceError('method', 'INVALID_INPUT_VALUE', `Method ${req.method} not allowed`, null));
    }
    if (rest === '/payment') return this.create(req, res, url, body, api);
    if (rest === '') return this.getByRef(res, url, api);
    return this.getById(res, url, rest.slice(1), api);
  }

  notFound(res, source) {
    fail(res, 404, serviceError(source, 'RESOURCE_ERROR', 'Record not found', '110507'));
  }

  create(req, res, url, body, api) {
    const query = checkQuery(url, { decline_details: kBoolean, repeat_flag: kBoolean, Format: kFormat });
    if (query.ReasonCode) return fail(res, 400, query);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return fail(res, 400, serviceError('Content-Type', 'INVALID_INPUT_VALUE', 'Content-Type must be application/json', '082000'));
    }
    let parsed;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(res, 400, serviceError(api.request, 'INVALID_INPUT_VALUE', 'Malformed JSON', '082000'));
    }
    const checked = kValidate[api.collection](parsed);
    if (checked.errors) return fail(res, 400, checked.errors);
    const request = checked.transfer;
    const reference = request[api.reference];
    const store = this.stores[api.collection];
    const postCount = store.noteReceived(reference, 'POST');
    const digest = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const existing = store.byKey(reference);
    const declineDetails = query.decline_details === 'true';
    if (existing) return this.duplicate(res, api, existing, digest, query.repeat_flag === 'true', declineDetails);

    const scenario = scenarioOf(reference, checked.recipientPan, this.cards);
    const firstPost = postCount === 1;
    if (scenario.kind === 'reset-before' && firstPost) {
      store.noteReceived(reference, 'reset');
      return resetConnection(req.socket);
    }
    const payment = newPayment(api, request, scenario, digest, Date.now());
    store.put(payment);  // durable before any answer, or any reset after it
    if (scenario.kind === 'reset-after' && firstPost) {
      store.noteReceived(reference, 'reset');
      return resetConnection(req.socket);
    }
    if (scenario.kind === 'slow' && firstPost) {
      setTimeout(() => this.answerCreate(res, api, payment, declineDetails), scenario.seconds * 1000);
      return undefined;
    }
    return this.answerCreate(res, api, payment, declineDetails);
  }

  // A reference seen before. Default ("refuse"): refused as Send 2.0 refuses a duplicate, unless the
  // request is a repeat (repeat_flag=true) of identical values, which is answered from the first.
  // "replay": every identical duplicate is answered from the first. README.md gives the sources.
  duplicate(res, api, existing, digest, repeat, declineDetails) {
    if (this.opts['duplicate-reference'] === 'refuse' && !repeat) {
      return fail(res, 409, serviceError(api.reference, 'RESOURCE_ERROR', 'Duplicate value', '110501'));
    }
    if (existing._digest !== digest) {
      return fail(res, 409, serviceError(api.reference, 'RESOURCE_ERROR',
                                         'Repeat request does not match the original', '110501'));
    }
    return this.answerCreate(res, api, this.current(api, existing), declineDetails);
  }

  answerCreate(res, api, payment, declineDetails) {
    if (res.destroyed) return;
    if (payment.status === 'DECLINED' && !declineDetails) {
      const [transaction] = payment.transaction_history.data.transaction;
      return fail(res, 402, serviceError(api.request, 'DECLINE', transaction.network_status_description, null));
    }
    return send(res, 201, { [api.resource]: publicView(payment) });
  }

  // The stored payment, moved to its final status (durably) if its time has come.
  current(api, payment) {
    const settled = settle(payment, Date.now());
    if (!settled) return payment;
    this.stores[api.collection].put(settled);
    return settled;
  }

  getById(res, url, id, api) {
    const query = checkQuery(url, { Format: kFormat });
    if (query.ReasonCode) return fail(res, 400, query);
    const store = this.stores[api.collection];
    const payment = store.byId(id);
    if (!payment) return this.notFound(res, `${api.resource}Id`);
    store.noteReceived(payment[api.reference], 'GET');
    return send(res, 200, { [api.resource]: publicView(this.current(api, payment)) });
  }

  getByRef(res, url, api) {
    const query = checkQuery(url, { ref: null, Format: kFormat });
    if (query.ReasonCode) return fail(res, 400, query);
    if (!query.ref) return fail(res, 400, serviceError('ref', 'MISSING_REQUIRED_INPUT', 'Missing ref', '092000'));
    const store = this.stores[api.collection];
    const payment = store.byKey(query.ref);
    store.noteReceived(query.ref, 'GET');
    if (!payment) return this.notFound(res, 'ref');
    const view = publicView(this.current(api, payment));
    return send(res, 200, { [api.collection]: { resource_type: 'list', item_count: '1', data: { [api.resource]: [view] } } });
  }

  // Unsigned, for tests only: what arrived under a reference at each API (masked card only) and
  // how often: /_double/transfers[?ref=], /_double/disbursements[?ref=].
  admin(req, res, url) {
    const api = kApis[url.pathname.slice('/_double/'.length)];
    if (req.method !== 'GET' || !api) return this.notFound(res, 'path');
    const store = this.stores[api.collection];
    const ref = url.searchParams.get('ref');
    const report = (r) => ({ reference: r, ...adminView(api, store.byKey(r), store.counts(r)) });
    if (ref !== null) return send(res, 200, report(ref));
    return send(res, 200, { [api.collection]: store.keys().map(report) });
  }
}

function main() {
  const opts = options();
  const double = new Double(opts);
  serve({ name: 'mastercard_send', tls: { cert: readFileSync(opts.cert), key: readFileSync(opts.key) }, opts,
          handle: (req, res) => double.handle(req, res),
          onStop: () => Object.values(double.stores).forEach((store) => store.close()),
          internalError: (res) => fail(res, 500, serviceError('system', 'SYSTEM_ERROR', 'Internal error', null)) });
}

main();
