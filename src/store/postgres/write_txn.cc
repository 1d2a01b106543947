#include "store/postgres/write_txn.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "core/assert.h"
#include "store/postgres/statements.h"
#include "store/postgres/store.h"

namespace payoutd::store::postgres {
namespace {

std::string payout_key(std::string_view tenant, PayoutKind kind, std::string_view partner_id) {
  return account_key(tenant, static_cast<AccountKind>(kind), partner_id);
}

std::string record_key(std::string_view tenant, std::string_view kind, std::string_view key) {
  std::string k;
  k.reserve(tenant.size() + kind.size() + key.size() + 2);
  k.append(tenant).append(1, '\x1f').append(kind).append(1, '\x1f').append(key);
  return k;
}

template <typename E>
std::int64_t number(E e) {
  return static_cast<std::int64_t>(e);
}

// Declared keys as the columns of a statement, each key once: a batch's jobs declare the same
// funder and wallet again and again, and each key sent is one index probe.
template <typename Key>
Columns<3> distinct_keys(const std::vector<Key>& keys, std::string_view Key::*name) {
  Columns<3> columns;
  std::set<std::tuple<std::string_view, int, std::string_view>> seen;
  for (const Key& k : keys) {
    if (seen.emplace(k.tenant, static_cast<int>(k.kind), k.*name).second) {
      columns.row(k.tenant, number(k.kind), k.*name);
    }
  }
  return columns;
}

}  // namespace

PgWriteTxn::PgWriteTxn(PgStore& store, Connection* c, const std::string& why)
    : store_(store), c_(c) {
  if (!c_) {
    failed_ = true;
    failure_ = "PostgreSQL unavailable: " + why;
  }
}

PgWriteTxn::~PgWriteTxn() {
  if (!begun_ || finished_ || !c_->ok()) return;
  try {
    c_->exec(kRollback);
  } catch (const StorageError&) {
    // The connection is dropped by the store when it is broken; nothing else to undo.
  }
}

void PgWriteTxn::begin_if_needed() {
  if (begun_) return;
  begun_ = true;
  c_->exec(kBegin);
}

Account* PgWriteTxn::keep(const Account& a) {
  auto [it, inserted] = accounts_.try_emplace(a.id);
  if (inserted) {
    it->second = std::make_unique<Slot>(Slot{a, a});
    by_code_[account_key(a.tenant, a.kind, a.code)] = a.id;
  }
  return &it->second->now;
}

Account* PgWriteTxn::keep_rows(const Result& r) {
  Account* last = nullptr;
  for (int i = 0; i < r.rows(); ++i) last = keep(read_account(Row(r, i)));
  return last;
}

const PayoutRecord* PgWriteTxn::keep_payout(PayoutRecord p) {
  payout_ids_[payout_key(p.tenant, p.kind, p.partner_id)] = p.id;
  const std::int64_t id = p.id;
  auto [it, inserted] = payouts_.try_emplace(id, PayoutSlot{std::move(p)});
  return &it->second.record;
}

// --- prepare: the declared footprint, locked and read in the round trip that begins --------------

void PgWriteTxn::prepare(const Footprint& f) {
  guarded([&] {
    PAYOUTD_ASSERT(!begun_, "a write transaction is prepared before anything else");
    Columns<3> codes = distinct_keys(f.accounts, &Footprint::AccountKey::code);
    Columns<3> owners = distinct_keys(f.account_owners, &Footprint::AccountKey::code);
    Columns<3> partner_ids = distinct_keys(f.payouts, &Footprint::PayoutKey::partner_id);
    ArrayText ids;
    for (std::int64_t id : f.payout_ids) ids.add(id);
    const std::string payout_ids = ids.done();

    Steps steps;
    steps.push_back({kBegin, {}});
    const bool lock = !codes.empty() || !owners.empty() || !f.payout_ids.empty();
    if (lock) {
      Params p = codes.params();
      p.append(owners.params()).add(std::string_view(payout_ids));
      steps.push_back({kLockAccounts, std::move(p)});
    }
    const bool fetch = !partner_ids.empty() || !f.payout_ids.empty();
    if (fetch) {
      Params p = partner_ids.params();
      p.add(std::string_view(payout_ids));
      steps.push_back({kFetchPayouts, std::move(p)});
    }
    begun_ = true;  // from here on, whatever fails is rolled back
    keep_prepared(f, c_->pipeline(steps), lock, fetch);
    return 0;
  });
}

void PgWriteTxn::keep_prepared(const Footprint& f, const std::vector<Result>& results, bool lock,
                               bool fetch) {
  std::size_t next = 1;  // after BEGIN's
  if (lock) keep_rows(results[next++]);
  if (fetch) {
    const Result& r = results[next++];
    for (int i = 0; i < r.rows(); ++i) keep_payout(read_payout(Row(r, i)));
  }
  // What was declared and not found is known to be absent.
  for (const auto& k : f.accounts) {
    std::string key = account_key(k.tenant, k.kind, k.code);
    if (!by_code_.count(key)) absent_codes_.insert(std::move(key));
  }
  for (const auto& k : f.account_owners) {
    owners_loaded_.insert(account_key(k.tenant, k.kind, k.code));
  }
  for (const auto& k : f.payouts) {
    payout_ids_.try_emplace(payout_key(k.tenant, k.kind, k.partner_id), 0);
  }
}

// --- Accounts ------------------------------------------------------------------------------------

Account* PgWriteTxn::account(std::int64_t id) {
  if (auto it = accounts_.find(id); it != accounts_.end()) return &it->second->now;
  return guarded([&]() -> Account* {
    begin_if_needed();
    return keep_rows(c_->query(kLockAccountById, params_of(id)));
  });
}

Account* PgWriteTxn::find_account(std::string_view tenant, AccountKind kind,
                                  std::string_view code) {
  std::string key = account_key(tenant, kind, code);
  if (auto it = by_code_.find(key); it != by_code_.end()) return &accounts_[it->second]->now;
  if (absent_codes_.count(key)) return nullptr;
  return guarded([&]() -> Account* {
    begin_if_needed();
    Account* a = keep_rows(c_->query(kLockAccountByCode, params_of(tenant, number(kind), code)));
    if (!a) absent_codes_.insert(std::move(key));
    return a;
  });
}

std::vector<Account*> PgWriteTxn::find_accounts_by_owner(std::string_view tenant, AccountKind kind,
                                                         std::string_view owner) {
  std::string key = account_key(tenant, kind, owner);
  if (!owners_loaded_.count(key)) {
    guarded([&] {
      begin_if_needed();
      return keep_rows(c_->query(kLockAccountsByOwner, params_of(tenant, number(kind), owner)));
    });
    owners_loaded_.insert(std::move(key));
  }
  std::vector<Account*> result;
  for (auto& [id, slot] : accounts_) {
    const Account& a = slot->now;
    if (a.tenant == tenant && a.kind == kind && a.owner == owner) result.push_back(&slot->now);
  }
  std::sort(result.begin(), result.end(),
            [](const Account* a, const Account* b) { return a->id < b->id; });
  return result;
}

Account* PgWriteTxn::insert_account(const Account& account) {
  Account a = account;
  a.debits_pending = a.debits_posted = a.credits_pending = a.credits_posted = 0;
  a.history_seq = 0;
  a.id = guarded([&] {
    begin_if_needed();
    wrote_directly_ = true;
    const Result r = c_->query(kInsertAccount, Params().add_fields(a, new_account_fields));
    return Row(r, 0).i64(0);
  });
  absent_codes_.erase(account_key(a.tenant, a.kind, a.code));
  return keep(a);
}

// --- Transfers and payouts: ids from the node's block, rows sent at commit -----------------------

std::int64_t PgWriteTxn::next_row_id() {
  return guarded([&] { return store_.next_row_id(*c_); });
}

std::int64_t PgWriteTxn::insert_transfer(const Transfer& transfer) {
  const std::int64_t id = next_row_id();
  new_transfer_index_[id] = new_transfers_.size();
  new_transfers_.push_back(transfer);
  new_transfers_.back().id = id;
  return id;
}

std::optional<Transfer> PgWriteTxn::find_transfer(std::int64_t id) {
  if (auto it = new_transfer_index_.find(id); it != new_transfer_index_.end()) {
    return new_transfers_[it->second];
  }
  return guarded([&] {
    begin_if_needed();
    return first_row(c_->query(kTransferById, params_of(id)), read_transfer);
  });
}

std::optional<PayoutRecord> PgWriteTxn::find_payout(std::string_view tenant, PayoutKind kind,
                                                    std::string_view partner_id) {
  const std::string key = payout_key(tenant, kind, partner_id);
  if (auto it = payout_ids_.find(key); it != payout_ids_.end()) {
    if (it->second == 0) return std::nullopt;
    return payouts_.at(it->second).record;
  }
  return guarded([&]() -> std::optional<PayoutRecord> {
    begin_if_needed();
    const Result r = c_->query(kPayoutByKey, params_of(tenant, number(kind), partner_id));
    if (!r.rows()) {
      payout_ids_[key] = 0;
      return std::nullopt;
    }
    return *keep_payout(read_payout(Row(r, 0)));
  });
}

std::optional<PayoutRecord> PgWriteTxn::find_payout_by_id(std::int64_t id) {
  if (auto it = payouts_.find(id); it != payouts_.end()) return it->second.record;
  return guarded([&]() -> std::optional<PayoutRecord> {
    begin_if_needed();
    const Result r = c_->query(kPayoutById, params_of(id));
    if (!r.rows()) return std::nullopt;
    return *keep_payout(read_payout(Row(r, 0)));
  });
}

std::int64_t PgWriteTxn::add_payout(const PayoutRecord& payout) {
  PayoutRecord p = payout;
  p.id = next_row_id();
  new_payouts_.push_back(p.id);
  keep_payout(std::move(p));
  payouts_.at(new_payouts_.back()).inserted = true;
  return new_payouts_.back();
}

// A payout another node inserted since the batch looked makes the commit fail on the unique
// index, as a conflict: the batch runs again and then finds it.
std::int64_t PgWriteTxn::insert_payout(const PayoutRecord& payout) { return add_payout(payout); }

std::int64_t PgWriteTxn::insert_payout_if_new(const PayoutRecord& payout) {
  if (find_payout(payout.tenant, payout.kind, payout.partner_id)) return 0;
  return add_payout(payout);
}

void PgWriteTxn::update_payout(const PayoutRecord& payout) {
  auto [it, found_none] = payouts_.try_emplace(payout.id, PayoutSlot{payout});
  PayoutSlot& slot = it->second;
  if (!found_none) {
    PayoutRecord& p = slot.record;
    p.status = payout.status;
    p.decline_code = payout.decline_code;
    p.pending_transfer_id = payout.pending_transfer_id;
    p.updated_ms = payout.updated_ms;
    p.due_ms = payout.due_ms;
  }
  if (slot.inserted || slot.updated) return;
  slot.updated = true;
  updated_payouts_.push_back(payout.id);
}

void PgWriteTxn::insert_history(const HistoryRecord& entry) { new_history_.push_back(entry); }

// --- Records: read and locked on first use, written at commit ------------------------------------

std::optional<std::string> PgWriteTxn::find_record(std::string_view tenant, std::string_view kind,
                                                   std::string_view key) {
  const std::string k = record_key(tenant, kind, key);
  if (auto it = records_.find(k); it != records_.end()) return it->second.value;
  return guarded([&]() -> std::optional<std::string> {
    begin_if_needed();
    const Result r = c_->query(kLockRecord, params_of(tenant, kind, key));
    RecordSlot slot{std::string(tenant), std::string(kind), std::string(key),
                    first_row(r, read_text)};
    return records_.emplace(k, std::move(slot)).first->second.value;
  });
}

void PgWriteTxn::insert_record(std::string_view tenant, std::string_view kind, std::string_view key,
                               std::string_view value) {
  RecordSlot& slot = records_[record_key(tenant, kind, key)];
  slot.tenant = tenant;
  slot.kind = kind;
  slot.key = key;
  slot.value = std::string(value);
  slot.inserted = true;
}

void PgWriteTxn::update_record(std::string_view tenant, std::string_view kind, std::string_view key,
                               std::string_view value) {
  auto it = records_.find(record_key(tenant, kind, key));
  if (it == records_.end()) {
    find_record(tenant, kind, key);  // loads (and locks) it
    it = records_.find(record_key(tenant, kind, key));
  }
  if (it == records_.end() || !it->second.value) return;  // not there: like an UPDATE of nothing
  it->second.value = std::string(value);
  if (!it->second.inserted) it->second.updated = true;
}

// --- Outbox, meta and leases: statement by statement ---------------------------------------------

std::int64_t PgWriteTxn::insert_outbox(const OutboxMessage& m) {
  return guarded([&]() -> std::int64_t {
    require_sealed_if_personal(m);
    begin_if_needed();
    const std::int64_t id = next_row_id();
    const Result r = c_->query(kInsertOutbox, Params().add(id).add_fields(m, outbox_fields));
    wrote_directly_ |= r.affected() > 0;
    return r.affected() == 1 ? id : 0;
  });
}

void PgWriteTxn::update_outbox(const OutboxMessage& m) {
  guarded([&] {
    begin_if_needed();
    const Result r =
        c_->query(kUpdateOutbox, Params().add_fields(m, outbox_state_fields).add(m.id));
    wrote_directly_ |= r.affected() > 0;
    return 0;
  });
}

void PgWriteTxn::insert_outbox_attempt(const OutboxAttempt& a) {
  guarded([&] {
    begin_if_needed();
    wrote_directly_ = true;
    c_->query(kInsertOutboxAttempt, Params().add_fields(a, outbox_attempt_fields));
    return 0;
  });
}

std::optional<OutboxMessage> PgWriteTxn::find_outbox(std::int64_t id) {
  return guarded([&] {
    begin_if_needed();
    return first_row(c_->query(kLockOutboxById, params_of(id)), read_outbox);
  });
}

std::optional<std::string> PgWriteTxn::get_meta(std::string_view key) {
  return guarded([&] {
    begin_if_needed();
    return first_row(c_->query(kMetaValue, params_of(key)), read_text);
  });
}

void PgWriteTxn::set_meta(std::string_view key, std::string_view value) {
  guarded([&] {
    begin_if_needed();
    wrote_directly_ = true;
    c_->query(kSetMeta, params_of(key, value));
    return 0;
  });
}

bool PgWriteTxn::claim_lease(std::string_view name, std::string_view holder, std::int64_t now_ms,
                             std::int64_t ttl_ms) {
  return guarded([&] {
    begin_if_needed();
    const Result r = c_->query(kClaimLease, params_of(name, holder, now_ms + ttl_ms, now_ms));
    wrote_directly_ |= r.affected() > 0;
    return r.affected() == 1;
  });
}

}  // namespace payoutd::store::postgres
