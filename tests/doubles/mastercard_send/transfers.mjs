// A transfer as Mastercard Send's Payment Transfer API answers it (the Send P2P spec's Transfer and
// Transaction definitions), built from a validated request and its scenario, and moved to its
// final status once its time has come.
//   newTransfer(request, scenario, digest, nowMs) -> stored transfer (private fields start with _)
//   settle(transfer, nowMs) -> the transfer, final if its final time has passed (or null: no change)
//   publicView(transfer) -> the transfer without private fields
//   adminView(transfer, counts) -> what the admin endpoint reports
import { randomBytes, randomInt } from 'node:crypto';
import { maskPan } from '../common/cards.mjs';
import { kDeclineCodes } from './scenarios.mjs';

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

// Responses mask account URIs and drop exp and cvc: 'pan:************0018'.
export function maskUri(uri) {
  const [scheme, rest = ''] = uri.split(/:(.*)/s);
  return `${scheme}:${maskPan(rest.split(';')[0])}`;
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

export function newTransfer(request, scenario, digest, nowMs) {
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
    id: id('trn'), resource_type: 'transfer',
    transfer_reference: request.transfer_reference,
    payment_type: request.payment_type ?? 'P2P',
    funding_source: request.funding_source,
    sender_account_uri: maskUri(request.sender_account_uri),
    recipient_account_uri: maskUri(request.recipient_account_uri),
    sender: names(request.sender), recipient: names(request.recipient),
    transfer_amount: amount, created: when,
    transaction_history: { resource_type: 'list', item_count: '1', data: { transaction: [transaction] } },
    original_status: status, status, status_timestamp: when,
    _digest: digest,
    _final: scenario.final ?? null,
    _final_at_ms: scenario.final ? nowMs + scenario.seconds * 1000 : null,
  };
}

export function settle(transfer, nowMs) {
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

export function adminView(transfer, counts) {
  const [transaction] = transfer?.transaction_history.data.transaction ?? [];
  return {
    received: counts,
    transfer: transfer ? {
      id: transfer.id, transfer_reference: transfer.transfer_reference,
      recipient_account_uri: transfer.recipient_account_uri,
      amount: transfer.transfer_amount.value, currency: transfer.transfer_amount.currency,
      funding_source: transfer.funding_source, payment_type: transfer.payment_type,
      original_status: transfer.original_status, status: transfer.status,
      network_status_code: transaction.network_status_code ?? null,
    } : null,
  };
}
