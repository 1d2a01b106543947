#include "engine/audit.h"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "core/ids.h"
#include "engine/payouts.h"
#include "engine/statements.h"

namespace payoutd::engine {

using ledger::Transfer;
using ledger::TransferKind;
using store::PayoutRecord;
using store::PayoutStatus;

namespace {

// The transfers a payout may own, by status: success = one single transfer or a posted
// reservation; declined = nothing or a voided reservation; processing = an open reservation, or
// nothing for a card payout whose order still waits for its card (nothing is reserved yet).
bool movement_matches(const PayoutRecord& p, const std::vector<const Transfer*>& ts) {
  auto kinds_are = [&](std::initializer_list<TransferKind> kinds) {
    if (ts.size() != kinds.size()) return false;
    auto t = ts.begin();
    for (TransferKind k : kinds) {
      if ((*t)->kind != k || (*t)->amount != p.amount) return false;
      ++t;
    }
    return true;
  };
  switch (p.status) {
    case PayoutStatus::kSuccess:
      if (p.amount == 0) return ts.empty();
      return kinds_are({TransferKind::kSingle}) ||
             kinds_are({TransferKind::kPending, TransferKind::kPost});
    case PayoutStatus::kDeclined:
      return ts.empty() || kinds_are({TransferKind::kPending, TransferKind::kVoid});
    case PayoutStatus::kProcessing:
      if (ts.empty()) return p.kind == store::PayoutKind::kCardPayout && p.pending_transfer_id == 0;
      return kinds_are({TransferKind::kPending}) && ts.front()->id == p.pending_transfer_id;
  }
  return false;
}

}  // namespace

std::vector<std::string> audit_store(const store::Store& store) {
  const store::Read<store::AuditSnapshot> snap = store.snapshot();
  if (!snap.ok()) return {"the store could not be read: " + snap.error().message};
  return audit_snapshot(*snap);
}

std::vector<std::string> audit_snapshot(const store::AuditSnapshot& snap) {
  const auto& transfers = snap.transfers;
  std::vector<std::string> violations = ledger::audit(snap.accounts, transfers);
  std::unordered_map<std::string, std::pair<int, int>> history;  // id -> (count, status)
  std::set<std::pair<std::int64_t, std::int64_t>> positions;     // (account, seq) taken
  auto take_position = [&](std::int64_t account, std::int64_t seq, const std::string& id) {
    if (!positions.insert({account, seq}).second) {
      violations.push_back(
          fmt::format("history position {}/{} used twice (again by {})", account, seq, id));
    }
  };
  for (const auto& entry : snap.history) {
    auto& h = history[entry.id];
    ++h.first;
    h.second = entry.status;
    take_position(entry.account_id, entry.seq, entry.id);
  }
  std::unordered_map<std::string, std::vector<const Transfer*>> by_reference;
  for (const Transfer& t : transfers) by_reference[t.reference].push_back(&t);

  std::set<std::string> seen_ids;
  for (const PayoutRecord& p : snap.payouts) {
    const std::string reference = transfer_reference(p);
    if (!seen_ids.insert(reference).second) {
      violations.push_back(fmt::format("partner id {} recorded twice", reference));
    }
    auto it = by_reference.find(reference);
    static const std::vector<const Transfer*> kNone;
    const auto& owned = it == by_reference.end() ? kNone : it->second;
    if (!movement_matches(p, owned)) {
      violations.push_back(
          fmt::format("payout {} ({}) with status {} owns {} transfers that do not match it", p.id,
                      reference, static_cast<int>(p.status), owned.size()));
    }
    if (p.history_seq > 0) {
      // A wallet payout is its own history entry: its id must name its position.
      take_position(p.history_account_id, p.history_seq, p.history_id);
      const auto decoded = decode_history_uuid(p.history_id);
      if (!decoded || decoded->first != p.history_account_id || decoded->second != p.history_seq ||
          p.history_account_id != p.destination_account_id) {
        violations.push_back(fmt::format("payout {} has history id {} that does not name its place",
                                         reference, p.history_id));
      }
    } else if (!p.history_id.empty()) {
      auto h = history.find(p.history_id);
      const int n = h == history.end() ? 0 : h->second.first;
      if (n != 1) {
        violations.push_back(
            fmt::format("payout {} has {} history entries {}", reference, n, p.history_id));
      } else if (h->second.second != static_cast<int>(p.status)) {
        violations.push_back(fmt::format("payout {} has status {} but its history entry {}",
                                         reference, static_cast<int>(p.status), h->second.second));
      }
    }
    for (const Transfer* t : owned) {
      if (t->debit_account_id != p.source_account_id ||
          t->credit_account_id != p.destination_account_id) {
        violations.push_back(
            fmt::format("transfer {} of payout {} moves between other accounts", t->id, reference));
      }
    }
    if (it != by_reference.end()) by_reference.erase(it);
  }
  for (const auto& [reference, ts] : by_reference) {
    violations.push_back(
        fmt::format("{} transfers reference {}, which is no payout", ts.size(), reference));
  }
  // The day boundaries change no sum the statements' audit checks: the default zone will do.
  for (std::string& v : audit_statements(snap, kStatementUtcOffsetMinutesDefault)) {
    violations.push_back(std::move(v));
  }
  return violations;
}

}  // namespace payoutd::engine
