#pragma once
// The operators' audit log as staff-facing code writes it (engine/operator_log.h is the chain):
// an entry names the actor (admin/actor.h) and what they did. Two ways in:
//   - append(), inside a committer job of the caller's: the action and its entry commit in one
//     transaction (maker-checker's requests and decisions, a funding account's credit or debit);
//   - record(), for an action that is not the caller's job (the console's sign-in events): an
//     entry of its own, durable before `done` runs.
// And one the admin API applies to every mutating call by itself (admin/call_audit.h).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "admin/actor.h"
#include "engine/committer.h"
#include "engine/operator_log.h"

namespace payoutd::admin {

// What an actor did, to what, with what outcome; detail is a small JSON object's text (never a
// secret, a password, a one-time code or a card number), empty for none.
struct AuditFacts {
  std::string action;
  std::string target;
  std::string outcome;
  std::string detail;
};

class AuditTrail {
 public:
  // `committer` outlives the trail; `key` is the chain's (engine::AuditKey::from_kek).
  AuditTrail(engine::Committer& committer, engine::AuditKey key)
      : committer_(committer), key_(key) {}

  // Inside a job's apply: appends the entry to the transaction. nullopt when the log's head is
  // damaged: the job must then change nothing (its action would go unrecorded).
  std::optional<engine::OperatorEntry> append(store::WriteTxn& txn, const Actor& actor,
                                              AuditFacts facts, std::int64_t now_ms) const;
  // An entry in a job of its own: `done(seq)` once durable, 0 when it could not be written. Runs
  // `done` on the committer's syncer thread (or the caller's when the queue is full): be quick.
  void record(const Actor& actor, AuditFacts facts, std::function<void(std::int64_t)> done) const;

  const engine::AuditKey& key() const { return key_; }
  engine::Committer& committer() const { return committer_; }

 private:
  engine::Committer& committer_;
  engine::AuditKey key_;
};

// The engine's form of an actor's facts.
engine::OperatorAction operator_action(const Actor& actor, AuditFacts facts);

}  // namespace payoutd::admin
