#include "admin/audit_trail.h"

namespace payoutd::admin {

engine::OperatorAction operator_action(const Actor& actor, AuditFacts facts) {
  return {actor.id,
          actor.via,
          actor.address,
          std::move(facts.action),
          std::move(facts.target),
          std::move(facts.outcome),
          std::move(facts.detail)};
}

std::optional<engine::OperatorEntry> AuditTrail::append(store::WriteTxn& txn, const Actor& actor,
                                                        AuditFacts facts,
                                                        std::int64_t now_ms) const {
  return engine::append_operator_entry(txn, key_, operator_action(actor, std::move(facts)), now_ms);
}

void AuditTrail::record(const Actor& actor, AuditFacts facts,
                        std::function<void(std::int64_t)> done) const {
  engine::submit_operator_entry(committer_, key_, operator_action(actor, std::move(facts)),
                                std::move(done));
}

}  // namespace payoutd::admin
