// PgWriteTxn::commit: every write of the batch in one round trip, one multi-row statement per
// table (Columns, over unnest()), pipelined with COMMIT.
#include <algorithm>
#include <tuple>

#include "core/assert.h"
#include "store/postgres/statements.h"
#include "store/postgres/store.h"
#include "store/postgres/write_txn.h"

namespace payoutd::store::postgres {

void PgWriteTxn::add_transfer_inserts(Steps& steps) const {
  if (new_transfers_.empty()) return;
  Columns<9> t;
  for (const Transfer& x : new_transfers_) {
    t.add(x.id);
    t.add_fields(x, transfer_fields);
  }
  steps.push_back({kInsertTransfers, t.params()});
}

void PgWriteTxn::add_payout_inserts(Steps& steps) {
  if (new_payouts_.empty()) return;
  // In key order: two nodes inserting the same partner ids then wait for each other in one
  // order, never in a cycle.
  std::sort(new_payouts_.begin(), new_payouts_.end(), [&](std::int64_t a, std::int64_t b) {
    const PayoutRecord& x = payouts_.at(a).record;
    const PayoutRecord& y = payouts_.at(b).record;
    return std::tie(x.tenant, x.kind, x.partner_id) < std::tie(y.tenant, y.kind, y.partner_id);
  });
  Columns<20> p;
  for (std::int64_t id : new_payouts_) {
    p.add(id);
    p.add_fields(payouts_.at(id).record, payout_fields);
  }
  steps.push_back({kInsertPayouts, p.params()});
}

void PgWriteTxn::add_history_inserts(Steps& steps) const {
  if (new_history_.empty()) return;
  Columns<14> h;
  for (const HistoryRecord& x : new_history_) h.add_fields(x, history_fields);
  steps.push_back({kInsertHistory, h.params()});
}

void PgWriteTxn::add_payout_updates(Steps& steps) const {
  if (updated_payouts_.empty()) return;
  Columns<6> u;
  for (std::int64_t id : updated_payouts_) {
    u.add(id);
    u.add_fields(payouts_.at(id).record, payout_state_fields);
  }
  steps.push_back({kUpdatePayouts, u.params()});
}

void PgWriteTxn::add_record_writes(Steps& steps) const {
  Columns<4> new_records;
  Columns<4> changed_records;
  for (const auto& [k, r] : records_) {
    if (!r.inserted && !r.updated) continue;
    (r.inserted ? new_records : changed_records)
        .row(std::string_view(r.tenant), std::string_view(r.kind), std::string_view(r.key),
             std::string_view(*r.value));
  }
  if (!new_records.empty()) steps.push_back({kInsertRecords, new_records.params()});
  if (!changed_records.empty()) steps.push_back({kUpdateRecords, changed_records.params()});
}

// Touched accounts are written once per batch, and only when they changed.
void PgWriteTxn::add_account_updates(Steps& steps) const {
  Columns<8> a;
  for (const auto& [id, slot] : accounts_) {
    if (slot->now == slot->base) continue;
    a.add(id);
    a.add_fields(slot->now, account_state_fields);
  }
  if (!a.empty()) steps.push_back({kUpdateAccounts, a.params()});
}

Status PgWriteTxn::commit() {
  if (failed_) return failure();
  PAYOUTD_ASSERT(!finished_, "a write transaction commits once");
  try {
    guarded([&] {
      begin_if_needed();
      Steps steps;
      add_transfer_inserts(steps);
      add_payout_inserts(steps);
      add_history_inserts(steps);
      add_payout_updates(steps);
      add_record_writes(steps);
      add_account_updates(steps);
      // A batch that changed nothing writes its row of the commit barrier, so that its COMMIT
      // too waits for the synchronous standby: that confirms whatever its reads saw.
      if (steps.empty() && !wrote_directly_) {
        steps.push_back({kCommitBarrier, params_of(std::string_view(store_.commit_barrier_key()))});
      }
      steps.push_back({kCommitWithoutTimeout, {}});
      steps.push_back({kCommit, {}});
      c_->pipeline(steps);
      return 0;
    });
  } catch (const TxnFailed& e) {
    return e.status();
  }
  finished_ = true;
  return Status::Ok();
}

Status PgWriteTxn::failure() const {
  return conflict_ ? Status::Conflict(failure_) : Status::Error(failure_);
}

Status PgWriteTxn::roll_back_failed() {
  if (begun_ && !finished_ && c_ && c_->ok()) {
    try {
      c_->exec(kRollback);
    } catch (const StorageError&) {
      // Broken now: the store replaces the connection before the next batch.
    }
  }
  finished_ = true;
  return failure();
}

}  // namespace payoutd::store::postgres
