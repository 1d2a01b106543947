#include "engine/audit.h"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "engine/payouts.h"

namespace payoutd::engine {

using ledger::Transfer;
using ledger::TransferKind;
using store::PayoutRecord;
using store::PayoutStatus;

namespace {

// The transfers a payout may own, by status: success = one single transfer or a posted
// reservation; declined = nothing or a voided reservation; processing = an open reservation.
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
      return kinds_are({TransferKind::kPending});
  }
  return false;
}

}  // namespace

std::vector<std::string> audit_store(const store::Store& store) {
  const auto accounts = store.all_accounts();
  const auto transfers = store.all_transfers();
  std::vector<std::string> violations = ledger::audit(accounts, transfers);

  std::unordered_map<std::string, std::vector<const Transfer*>> by_reference;
  for (const Transfer& t : transfers) by_reference[t.reference].push_back(&t);

  std::set<std::string> seen_ids;
  for (const PayoutRecord& p : store.all_payouts()) {
    const std::string reference = transfer_reference(p);
    if (!seen_ids.insert(reference).second) {
      violations.push_back(fmt::format("partner id {} recorded twice", reference));
    }
    auto it = by_reference.find(reference);
    static const std::vector<const Transfer*> kNone;
    const auto& owned = it == by_reference.end() ? kNone : it->second;
    if (!movement_matches(p, owned)) {
      violations.push_back(fmt::format(
          "payout {} ({}) with status {} owns {} transfers that do not match it", p.id, reference,
          static_cast<int>(p.status), owned.size()));
    }
    if (it != by_reference.end()) by_reference.erase(it);
    if (!p.history_id.empty()) {
      const std::int64_t n = store.count_history(p.history_id);
      if (n != 1) {
        violations.push_back(
            fmt::format("payout {} has {} history entries {}", reference, n, p.history_id));
      }
    }
  }
  for (const auto& [reference, ts] : by_reference) {
    violations.push_back(
        fmt::format("{} transfers reference {}, which is no payout", ts.size(), reference));
  }
  return violations;
}

}  // namespace payoutd::engine
