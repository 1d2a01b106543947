#pragma once
// What the backends share between rows and records: one field table per record that both reading
// and writing walk, the readers and writers built on them, and the merge of a wallet's two history
// sources. A Row is anything with i64(col), i32(col), text(col) and is_null(col): a SQLite
// statement or a PostgreSQL result row. A writer hands each column's value, in column order, to
// `put`: put(std::int64_t), put(std::string_view), or put(nullptr) for SQL NULL.
#include <algorithm>
#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "store/history_details.h"
#include "store/store.h"

namespace payoutd::store {

using ledger::Account;
using ledger::AccountKind;
using ledger::Transfer;

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

// Text made while writing (an encoded column): the writer hands it over, and a backend that
// binds without copying (SQLite's SQLITE_STATIC) copies this one.
struct OwnedText {
  std::string text;
};

// A column where NULL stands for 0 (a transfer's pending_id: the unique index transfers_resolution
// covers the rows that resolve a reservation, and only those).
template <typename Int>
struct ZeroIsNull {
  Int& value;
};
template <typename Int>
ZeroIsNull<Int> zero_is_null(Int& value) {
  return {value};
}

// --- Field tables --------------------------------------------------------------------------------
// Each calls field(member) for its columns, in the order of the column list it names
// (shared_sql.h). `R` is the record or the const record: reading fills one, writing reads one.
// Function objects, so that a table is passed as a value (RecordReader, put_fields).

// An account's columns fall in three runs: what names it, what a batch may change besides its
// counters, and its counters.
namespace account_columns {
template <typename R, typename F>
void identity(R& a, F& field) {
  field(a.tenant);
  field(a.kind);
  field(a.code);
  field(a.owner);
  field(a.currency);
  field(a.floor);
}
template <typename R, typename F>
void settings(R& a, F& field) {
  field(a.status);
  field(a.credit_delay_ms);
}
template <typename R, typename F>
void counters(R& a, F& field) {
  field(a.debits_pending);
  field(a.debits_posted);
  field(a.credits_pending);
  field(a.credits_posted);
  field(a.history_seq);
}
}  // namespace account_columns

// ACCOUNT_FIELDS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& a, F&& field) const {
    account_columns::identity(a, field);
    account_columns::settings(a, field);
    account_columns::counters(a, field);
    field(a.created_ms);
  }
} account_fields;

// A new account's values (its counters start at 0): the placeholders of each backend's insert.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& a, F&& field) const {
    account_columns::identity(a, field);
    account_columns::settings(a, field);
    field(a.created_ms);
  }
} new_account_fields;

// What a batch changes in an account: the SET list of each backend's account update.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& a, F&& field) const {
    account_columns::settings(a, field);
    account_columns::counters(a, field);
  }
} account_state_fields;

// PAYOUT_FIELDS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& p, F&& field) const {
    field(p.tenant);
    field(p.kind);
    field(p.partner_id);
    field(p.fingerprint);
    field(p.status);
    field(p.decline_code);
    field(p.source_account_id);
    field(p.destination_account_id);
    field(p.amount);
    field(p.currency);
    field(p.pending_transfer_id);
    field(p.source_ref);
    field(p.destination_ref);
    field(p.history_id);
    field(p.created_ms);
    field(p.updated_ms);
    field(p.due_ms);
    field(p.history_account_id);
    field(p.history_seq);
  }
} payout_fields;

// What WriteTxn::update_payout changes: the SET list of each backend's payout update.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& p, F&& field) const {
    field(p.status);
    field(p.decline_code);
    field(p.pending_transfer_id);
    field(p.updated_ms);
    field(p.due_ms);
  }
} payout_state_fields;

// TRANSFER_FIELDS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& t, F&& field) const {
    field(t.debit_account_id);
    field(t.credit_account_id);
    field(t.amount);
    field(t.currency);
    field(t.kind);
    field(zero_is_null(t.pending_id));
    field(t.timestamp_ms);
    field(t.reference);
  }
} transfer_fields;

// HISTORY_COLUMNS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& h, F&& field) const {
    field(h.account_id);
    field(h.seq);
    field(h.txn_history_id);
    field(h.domain);
    field(h.type_id);
    field(h.status);
    field(h.impact);
    field(h.domain_txn_id);
    field(h.amount);
    field(h.commission);
    field(h.currency);
    field(h.created_ms);
    field(h.error_code);
    field(h.details);
  }
} history_fields;

// OUTBOX_FIELDS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& m, F&& field) const {
    field(m.tenant);
    field(m.event_id);
    field(m.target);
    field(m.body);
    field(m.state);
    field(m.attempts);
    field(m.next_attempt_ms);
    field(m.created_ms);
    field(m.updated_ms);
    field(m.last_result);
    field(m.payout_id);
    field(m.sealed);
    field(m.request_id);
  }
} outbox_fields;

// What WriteTxn::update_outbox changes: the SET list of each backend's outbox update.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& m, F&& field) const {
    field(m.state);
    field(m.attempts);
    field(m.next_attempt_ms);
    field(m.updated_ms);
    field(m.last_result);
    field(m.body);
  }
} outbox_state_fields;

// OUTBOX_ATTEMPT_COLUMNS.
inline constexpr struct {
  template <typename R, typename F>
  void operator()(R& a, F&& field) const {
    field(a.message_id);
    field(a.attempt);
    field(a.at_ms);
    field(a.duration_ms);
    field(a.http_status);
    field(a.error);
  }
} outbox_attempt_fields;

// --- Reading: columns to members -----------------------------------------------------------------

template <typename Row>
class FieldReader {
 public:
  FieldReader(const Row& row, int first_column) : row_(row), column_(first_column) {}

  void operator()(std::string& v) { v = row_.text(column_++); }
  void operator()(std::int64_t& v) { v = row_.i64(column_++); }
  void operator()(int& v) { v = row_.i32(column_++); }
  void operator()(bool& v) { v = row_.i32(column_++) != 0; }
  void operator()(Currency& v) { v = currency_from(row_.text(column_++)); }
  void operator()(HistoryDetails& v) { v = decode_history_details(row_.text(column_++)); }
  template <typename E>
  requires std::is_enum_v<E>
  void operator()(E& v) { v = static_cast<E>(row_.i32(column_++)); }
  void operator()(ZeroIsNull<std::int64_t> v) {
    v.value = row_.is_null(column_) ? 0 : row_.i64(column_);
    ++column_;
  }

 private:
  const Row& row_;
  int column_;
};

// Readers of rows into records, as function objects (read_payout(row), or read_payout passed to
// a helper that reads every row). kIdFirst: column 0 is the record's id, the field table's
// columns follow; otherwise the row is the field table's columns.
template <typename Record, const auto& kFields, bool kIdFirst>
struct RecordReader {
  template <typename Row>
  Record operator()(const Row& row) const {
    Record r;
    kFields(r, FieldReader<Row>(row, kIdFirst ? 1 : 0));
    if constexpr (kIdFirst) r.id = row.i64(0);
    return r;
  }
};

inline constexpr RecordReader<Account, account_fields, true> read_account;
inline constexpr RecordReader<PayoutRecord, payout_fields, true> read_payout;
inline constexpr RecordReader<Transfer, transfer_fields, true> read_transfer;
inline constexpr RecordReader<OutboxMessage, outbox_fields, true> read_outbox;
inline constexpr RecordReader<HistoryRecord, history_fields, false> read_history;
inline constexpr RecordReader<OutboxAttempt, outbox_attempt_fields, false> read_outbox_attempt;

// A row of a statement's movements (kMovements): TRANSFER_COLUMNS, then the other account's kind
// and code and the owning payout's id.
template <typename Row>
Movement read_movement(const Row& row) {
  Movement m;
  m.transfer = read_transfer(row);
  m.counter_kind = static_cast<ledger::AccountKind>(row.i32(9));
  m.counter_code = row.text(10);
  m.payout_id = row.i64(11);
  return m;
}

// A row of HISTORY_PAYOUT_COLUMNS: a wallet payout as its history entry.
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
  h.details.kind = HistoryDetails::Kind::kProvider;
  h.details.provider_id = s.text(8);
  h.details.provider_name = s.text(9);
  return h;
}

// A row of sql::kAllHistory.
inline constexpr auto read_history_entry = [](const auto& s) -> AuditSnapshot::HistoryEntry {
  return {s.text(0), s.i32(1), s.i64(2), s.i64(3)};
};

// A row of a payout_days statement: day, status, currency, count, sum.
inline constexpr auto read_payout_day = [](const auto& s) -> PayoutDay {
  return {s.i64(0), static_cast<PayoutStatus>(s.i64(1)), s.text(2), s.i64(3), s.i64(4)};
};

// --- Writing: members to columns -----------------------------------------------------------------

template <typename Put>
class FieldWriter {
 public:
  explicit FieldWriter(Put& put) : put_(put) {}

  void operator()(const std::string& v) { put_(std::string_view(v)); }
  void operator()(std::int64_t v) { put_(v); }
  void operator()(int v) { put_(static_cast<std::int64_t>(v)); }
  void operator()(bool v) { put_(std::int64_t{v ? 1 : 0}); }
  void operator()(const Currency& v) { put_(v.code()); }
  void operator()(const HistoryDetails& v) { put_(OwnedText{encode_history_details(v)}); }
  template <typename E>
  requires std::is_enum_v<E>
  void operator()(E v) { put_(static_cast<std::int64_t>(v)); }
  void operator()(ZeroIsNull<const std::int64_t> v) {
    if (v.value == 0) {
      put_(nullptr);
    } else {
      put_(v.value);
    }
  }

 private:
  Put& put_;
};

// Hands the record's columns that the field table `fields` names to `put`, in order.
template <typename Record, typename Table, typename Put>
void put_fields(const Record& record, const Table& fields, Put&& put) {
  fields(record, FieldWriter<std::remove_reference_t<Put>>(put));
}

// --- Keys and history ----------------------------------------------------------------------------

inline std::string account_key(std::string_view tenant, AccountKind kind, std::string_view code) {
  std::string key;
  key.reserve(tenant.size() + code.size() + 4);
  key.append(tenant).push_back('\x1f');
  key.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  key.push_back('\x1f');
  key.append(code);
  return key;
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
