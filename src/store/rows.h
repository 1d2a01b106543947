#pragma once
// What the backends share: column lists, rows to records, and the merge of a wallet's two history
// sources. A Row is anything with i64(col), i32(col), text(col) and is_null(col): a SQLite
// statement or a PostgreSQL result row.
#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace payoutd::store {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;

// Column lists, as macros so that every statement is one string literal built at compile time.
#define ACCOUNT_COLUMNS \
    "id, tenant, kind, code, owner, currency, floor, status, credit_delay_ms, debits_pending, " \
    "debits_posted, credits_pending, credits_posted, history_seq, created_ms"
#define PAYOUT_COLUMNS \
    "id, tenant, kind, partner_id, fingerprint, status, decline_code, source_account_id, " \
    "destination_account_id, amount, currency, pending_transfer_id, source_ref, destination_ref, " \
    "history_id, created_ms, updated_ms, due_ms, history_account_id, history_seq"
#define TRANSFER_COLUMNS \
    "id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, timestamp_ms, " \
    "reference"
#define HISTORY_COLUMNS \
    "account_id, seq, txn_history_id, domain, type_id, status, impact, domain_txn_id, amount, " \
    "commission, currency, created_ms, error_code, details"

#define OUTBOX_COLUMNS \
    "id, tenant, event_id, target, body, state, attempts, next_attempt_ms, created_ms, " \
    "updated_ms, last_result, payout_id, sealed"
#define OUTBOX_ATTEMPT_COLUMNS "message_id, attempt, at_ms, duration_ms, http_status, error"
// The due read's first step (a recursive common table): `tenants`, every tenant with pending
// messages, one probe of the index outbox_queues each (a skip scan), then a NULL row.
#define OUTBOX_TENANTS \
    "WITH RECURSIVE tenants(tenant) AS (" \
    " SELECT (SELECT tenant FROM outbox WHERE state = 0 ORDER BY tenant LIMIT 1)" \
    " UNION ALL" \
    " SELECT (SELECT o.tenant FROM outbox o WHERE o.state = 0 AND o.tenant > t.tenant" \
    "         ORDER BY o.tenant LIMIT 1)" \
    " FROM tenants t WHERE t.tenant IS NOT NULL)"

// A storage error inside a write transaction: thrown by the statement helpers and caught at the
// transaction boundary, which turns the whole batch into a failed commit.
struct StorageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The outbox's rule for every store (store.h, WriteTxn::insert_outbox): a message to a person is
// sealed, or it is not stored.
inline void require_sealed_if_personal(const OutboxMessage& m) {
  if (to_a_person(m.target) && !m.sealed) {
    throw StorageError("outbox message " + m.event_id + " to a person is not sealed: refused");
  }
}

inline Currency currency_from(const std::string& code) {
  auto c = Currency::from_code(code);
  if (!c) throw StorageError("unknown currency in database: " + code);
  return *c;
}

template <typename Row>
Account read_account(const Row& s) {
  Account a;
  a.id = s.i64(0);
  a.tenant = s.text(1);
  a.kind = static_cast<AccountKind>(s.i32(2));
  a.code = s.text(3);
  a.owner = s.text(4);
  a.currency = currency_from(s.text(5));
  a.floor = static_cast<ledger::BalanceFloor>(s.i32(6));
  a.status = static_cast<ledger::AccountStatus>(s.i32(7));
  a.credit_delay_ms = s.i64(8);
  a.debits_pending = s.i64(9);
  a.debits_posted = s.i64(10);
  a.credits_pending = s.i64(11);
  a.credits_posted = s.i64(12);
  a.history_seq = s.i64(13);
  a.created_ms = s.i64(14);
  return a;
}

template <typename Row>
PayoutRecord read_payout(const Row& s) {
  PayoutRecord p;
  p.id = s.i64(0);
  p.tenant = s.text(1);
  p.kind = static_cast<PayoutKind>(s.i32(2));
  p.partner_id = s.text(3);
  p.fingerprint = s.text(4);
  p.status = static_cast<PayoutStatus>(s.i32(5));
  p.decline_code = s.text(6);
  p.source_account_id = s.i64(7);
  p.destination_account_id = s.i64(8);
  p.amount = s.i64(9);
  p.currency = currency_from(s.text(10));
  p.pending_transfer_id = s.i64(11);
  p.source_ref = s.text(12);
  p.destination_ref = s.text(13);
  p.history_id = s.text(14);
  p.created_ms = s.i64(15);
  p.updated_ms = s.i64(16);
  p.due_ms = s.i64(17);
  p.history_account_id = s.i64(18);
  p.history_seq = s.i64(19);
  return p;
}

template <typename Row>
OutboxMessage read_outbox(const Row& s) {
  OutboxMessage m;
  m.id = s.i64(0);
  m.tenant = s.text(1);
  m.event_id = s.text(2);
  m.target = s.text(3);
  m.body = s.text(4);
  m.state = static_cast<OutboxState>(s.i32(5));
  m.attempts = s.i32(6);
  m.next_attempt_ms = s.i64(7);
  m.created_ms = s.i64(8);
  m.updated_ms = s.i64(9);
  m.last_result = s.text(10);
  m.payout_id = s.i64(11);
  m.sealed = s.i32(12) != 0;
  return m;
}

template <typename Row>
OutboxAttempt read_outbox_attempt(const Row& s) {
  OutboxAttempt a;
  a.message_id = s.i64(0);
  a.attempt = s.i32(1);
  a.at_ms = s.i64(2);
  a.duration_ms = s.i64(3);
  a.http_status = s.i32(4);
  a.error = s.text(5);
  return a;
}

template <typename Row>
Transfer read_transfer(const Row& s) {
  Transfer t;
  t.id = s.i64(0);
  t.debit_account_id = s.i64(1);
  t.credit_account_id = s.i64(2);
  t.amount = s.i64(3);
  t.currency = currency_from(s.text(4));
  t.kind = static_cast<ledger::TransferKind>(s.i32(5));
  t.pending_id = s.is_null(6) ? 0 : s.i64(6);
  t.timestamp_ms = s.i64(7);
  t.reference = s.text(8);
  return t;
}

template <typename Row>
HistoryRecord read_history(const Row& s) {
  HistoryRecord h;
  h.account_id = s.i64(0);
  h.seq = s.i64(1);
  h.txn_history_id = s.text(2);
  h.domain = s.i32(3);
  h.type_id = s.i32(4);
  h.status = s.i32(5);
  h.impact = s.i32(6);
  h.domain_txn_id = s.text(7);
  h.amount = s.i64(8);
  h.commission = s.i64(9);
  h.currency = currency_from(s.text(10));
  h.created_ms = s.i64(11);
  h.error_code = s.text(12);
  h.details = s.text(13);
  return h;
}

inline std::string account_key(std::string_view tenant, AccountKind kind,
                               std::string_view code) {
  std::string key;
  key.reserve(tenant.size() + code.size() + 4);
  key.append(tenant).push_back('\x1f');
  key.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  key.push_back('\x1f');
  key.append(code);
  return key;
}

// A wallet payout read as its history entry: payouts p joined with its source account a.
#define HISTORY_PAYOUT_COLUMNS \
    "p.history_seq, p.history_id, p.status, p.partner_id, p.amount, p.currency, p.created_ms, " \
    "p.decline_code, p.source_ref, a.owner"

template <typename Row>
HistoryRecord read_payout_history(const Row& s, std::int64_t account_id) {
  HistoryRecord h;
  h.from_payout = true;
  h.account_id = account_id;
  h.seq = s.i64(0);
  h.txn_history_id = s.text(1);
  h.status = s.i32(2);
  h.domain_txn_id = s.text(3);
  h.amount = s.i64(4);
  h.currency = currency_from(s.text(5));
  h.created_ms = s.i64(6);
  h.error_code = s.text(7);
  h.provider_id = s.text(8);
  h.provider_name = s.text(9);
  return h;
}

// One page of a wallet's history from its two sources, each already in seq order.
inline std::vector<HistoryRecord> merge_history(std::vector<HistoryRecord> table,
                                                std::vector<HistoryRecord> payouts,
                                                std::size_t limit) {
  std::vector<HistoryRecord> page;
  page.reserve(std::min(limit, table.size() + payouts.size()));
  std::merge(std::make_move_iterator(table.begin()), std::make_move_iterator(table.end()),
             std::make_move_iterator(payouts.begin()), std::make_move_iterator(payouts.end()),
             std::back_inserter(page),
             [](const HistoryRecord& a, const HistoryRecord& b) { return a.seq < b.seq; });
  if (page.size() > limit) page.resize(limit);
  return page;
}

}  // namespace payoutd::store
