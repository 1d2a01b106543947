// A push funds transaction as the double records it and as Visa's APIs answer it: the push
// POST/GET answer (PushfundspostResponse), the 202 status identifier, and the Transaction Query's
// record (TransactionQuerygetResponse).
//   newTransaction(checked, outcome, nowMs) -> stored transaction
//     outcome: {status: COMPLETED|IN_PROGRESS|FAILED, actionCode, polls?, duplicateOf?}
//   settle(t, nowMs) -> t made COMPLETED with its final action code
//   pushAnswer(t) -> the 200 body; pendingAnswer(t) -> the 202 body
//   queryRecord(t) -> one record of the Transaction Query's answer
//   adminView(key, transactions, counts) -> what /_double/transactions reports
import { randomBytes, randomInt } from 'node:crypto';
import { maskPan } from '../common/cards.mjs';

function digits(n) {
  let s = String(randomInt(1, 10));
  while (s.length < n) s += randomInt(10);
  return s;
}

function approvalCode() {
  return randomBytes(3).toString('hex').toUpperCase();
}

export function newTransaction(checked, outcome, nowMs) {
  const { push } = checked;
  const t = {
    id: randomBytes(12).toString('hex'),   // the status identifier
    key: checked.key,
    transactionIdentifier: digits(15),
    acquiringBin: String(push.acquiringBin),
    retrievalReferenceNumber: push.retrievalReferenceNumber,
    systemsTraceAuditNumber: String(push.systemsTraceAuditNumber),
    cardAcceptorIdCode: push.cardAcceptor.idCode,
    businessApplicationId: push.businessApplicationId,
    recipient: maskPan(checked.pan),
    amount: String(push.amount), minorUnits: checked.minorUnits, currency: checked.currency,
    status: outcome.status, actionCode: null, approvalCode: null,
    finalActionCode: outcome.actionCode ?? null,
    pollsLeft: outcome.polls ?? 0,
    duplicateOf: outcome.duplicateOf ?? null,
    digest: checked.digest,
    createdMs: nowMs, completedMs: null,
  };
  return outcome.status === 'COMPLETED' ? settle(t, nowMs) : t;
}

export function settle(t, nowMs) {
  const actionCode = t.finalActionCode;
  return { ...t, status: 'COMPLETED', actionCode, approvalCode: actionCode === '00' ? approvalCode() : null,
           completedMs: nowMs, pollsLeft: 0 };
}

export function pushAnswer(t) {
  const body = {
    transactionIdentifier: Number(t.transactionIdentifier),
    actionCode: t.actionCode,
    responseCode: '5',  // the source of the answer: the recipient issuer
    transmissionDateTime: new Date(t.completedMs).toISOString(),
  };
  if (t.approvalCode) body.approvalCode = t.approvalCode;
  return body;
}

export function pendingAnswer(t) {
  return { statusIdentifier: t.id };
}

function two(n) {
  return String(n).padStart(2, '0');
}

export function queryRecord(t) {
  const when = new Date(t.createdMs);
  const record = {
    statusCode: t.status,
    acquiringBin: t.acquiringBin,
    transactionIdentifier: t.transactionIdentifier,
    transactionType: 'CRED VOUCHER',
    retrievalReferenceNumber: t.retrievalReferenceNumber,
    systemsTraceAuditNumber: t.systemsTraceAuditNumber,
    transactionDate: `${two(when.getUTCDate())}-${two(when.getUTCMonth() + 1)}-${when.getUTCFullYear()}`,
    transactionTime: `${two(when.getUTCHours())}:${two(when.getUTCMinutes())}:${two(when.getUTCSeconds())}`,
  };
  if (t.status === 'COMPLETED') {
    record.actionCode = t.actionCode;
    record.responseCode = '5';
    if (t.approvalCode) record.approvalCode = t.approvalCode;
  }
  return record;
}

export function adminView(key, transactions, counts) {
  return {
    key,
    received: counts,
    credited: transactions.filter((t) => t.status === 'COMPLETED' && t.actionCode === '00').length,
    transactions: transactions.map((t) => ({
      statusIdentifier: t.id, transactionIdentifier: t.transactionIdentifier, status: t.status,
      actionCode: t.actionCode, recipientPrimaryAccountNumber: t.recipient, amount: t.amount,
      minorUnits: t.minorUnits, currency: t.currency, businessApplicationId: t.businessApplicationId,
      duplicateOf: t.duplicateOf,
    })),
  };
}
