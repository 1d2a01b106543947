// A payment as Mastercard Send answers it: a person-to-person transfer (the Send P2P spec's
// Transfer) or a disbursement (the Send Disbursements spec's Disbursement), which share the
// Transaction definition. Built from a validated request and its scenario, and moved to its final
// status once its time has come.
//   kApis.transfers, kApis.disbursements -> the names each API's documents use
//   newPayment(api, request, scenario, digest, nowMs) -> stored payment (private fields start with _)
//   settle(payment, nowMs) -> the payment, final if its final time has passed (or null: no change)
//   publicView(payment) -> the payment without private fields
//   adminView(api, payment, counts) -> what the admin endpoint reports
import { randomBytes, randomInt } from 'node:crypto';
import { maskPan } from '../common/cards.mjs';
import { kDeclineCodes } from './scenarios.mjs';

// [p2p-yaml] PaymentTransfer_wrapper/Transfer_wrapper/Transfers_wrapper; [disb-yaml]
// PaymentDisbursement_wrapper/Disbursement_wrapper/Disbursements_wrapper. A disbursement without
// funding_source is funded from a deposit account ("If you do not provide a funding_source value, it
// defaults to 'DEPOSIT_ACCOUNT'", [dev] Disbursements "Funding Source").
export const kApis = {
  transfers: { collection: 'transfers', request: 'payment_transfer', resource: 'transfer',
               reference: 'transfer_reference', amount: 'transfer_amount', idPrefix: 'trn',
               paymentType: 'P2P', fundingSource: undefined },
  disbursements: { collection: 'disbursements', request: 'payment_disbursement', resource: 'disbursement',
                   reference: 'disbursement_reference', amount: 'disbursement_amount', idPrefix: 'dsb',
                   paymentType: 'BDB', fundingSource: 'DEPOSIT_ACCOUNT' },
};

function id(prefix) {
  return `${prefix}_${randomBytes(21).toString('base64url')}`;
}

function digits(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += randomInt(10);
  return s;
}

function timestamp(ms) {
  return new Date(ms).toISOString().replace(/\.[0-9]{3}Z$/, '+00:00');
}

// Responses mask card numbers and drop exp and cvc: 'pan:************0018'. Other account URIs
// are answered as sent: "masked account information (e.g. "************1234" for a card account)",
// with 'acct-ref:ABCD123456789' and 'raw:12345678901234567890' as the examples [disb-yaml].
export function maskUri(uri) {
  const [scheme, rest = ''] = uri.split(/:(.*)/s);
  return scheme === 'pan' ? `${scheme}:${maskPan(rest.split(';')[0])}` : uri;
}

function names(person) {
  if (!person) return undefined;
  const { first_name, middle_name, last_name } = person;
  return { first_name, middle_name, last_name };
}

// The transaction's status fields for a status and (for a decline) a network code.
function statusFields(status, code) {
  if (status === 'APPROVED') {
    return { status, status_reason: 'APPROVED', network_status_code: '00',
             network_status_description: 'Approved or completed successfully' };
  }
  if (status === 'DECLINED') {
    const [description, reason] = kDeclineCodes[code];
    return { status, status_reason: reason, network_status_code: code,
             network_status_description: description };
  }
  return { status, status_reason: status };  // UNKNOWN, PENDING: the network has not answered
}

function initialStatus(scenario) {
  if (scenario.kind === 'decline') return ['DECLINED', scenario.code];
  if (scenario.kind === 'unknown') return ['UNKNOWN'];
  if (scenario.kind === 'pending') return ['PENDING'];
  return ['APPROVED'];
}

export function newPayment(api, request, scenario, digest, nowMs) {
  const [status, code] = initialStatus(scenario);
  const amount = { value: request.amount, currency: request.currency };
  const when = timestamp(nowMs);
  const transaction = {
    id: id('txn'), resource_type: 'transaction',
    account_uri: maskUri(request.recipient_account_uri),
    transaction_amount: amount, network: 'MASTERCARD',
    funds_availability: status === 'APPROVED' ? 'IMMEDIATE' : 'UNKNOWN', type: 'PAYMENT',
    create_timestamp: when, ...statusFields(status, code), status_timestamp: when,
    retrieval_reference: digits(12), system_trace_audit_number: digits(6),
  };
  return {
    id: id(api.idPrefix), resource_type: api.resource,
    [api.reference]: request[api.reference],
    payment_type: request.payment_type ?? api.paymentType,
    funding_source: request.funding_source ?? api.fundingSource,
    sender_account_uri: request.sender_account_uri === undefined ? undefined : maskUri(request.sender_account_uri),
    recipient_account_uri: maskUri(request.recipient_account_uri),
    sender: names(request.sender), recipient: names(request.recipient),
    [api.amount]: amount, created: when,
    transaction_history: { resource_type: 'list', item_count: '1', data: { transaction: [transaction] } },
    original_status: status, status, status_timestamp: when,
    _digest: digest,
    _final: scenario.final ?? null,
    _final_at_ms: scenario.final ? nowMs + scenario.seconds * 1000 : null,
  };
}

export function settle(transfer, nowMs) {  // either API's payment
  if (!transfer._final || nowMs < transfer._final_at_ms) return null;
  const { status, code } = transfer._final;
  const when = timestamp(nowMs);
  const [first] = transfer.transaction_history.data.transaction;
  const transaction = { ...first, ...statusFields(status, code), status_timestamp: when,
                        funds_availability: status === 'APPROVED' ? 'IMMEDIATE' : 'UNKNOWN' };
  return {
    ...transfer, status, status_timestamp: when,
    transaction_history: { ...transfer.transaction_history, data: { transaction: [transaction] } },
    _final: null, _final_at_ms: null,
  };
}

export function publicView(transfer) {
  return Object.fromEntries(Object.entries(transfer).filter(([k, v]) => !k.startsWith('_') && v !== undefined));
}

export function adminView(api, payment, counts) {
  const [transaction] = payment?.transaction_history.data.transaction ?? [];
  return {
    received: counts,
    [api.resource]: payment ? {
      id: payment.id, [api.reference]: payment[api.reference],
      recipient_account_uri: payment.recipient_account_uri,
      sender_account_uri: payment.sender_account_uri ?? null,
      sender: payment.sender ?? null, recipient: payment.recipient ?? null,
      amount: payment[api.amount].value, currency: payment[api.amount].currency,
      funding_source: payment.funding_source, payment_type: payment.payment_type,
      original_status: payment.original_status, status: payment.status,
      network_status_code: transaction.network_status_code ?? null,
    } : null,
  };
}
