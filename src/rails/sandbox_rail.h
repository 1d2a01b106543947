#pragma once
// The sandbox card rail: a simulated card network that behaves as the test-card table of
// shared/spec/sandbox.md says (success, issuer decline, processing then final, a timeout with an
// unknown outcome), with a configurable latency. Tests may give more cards behaviours of their
// own through the config, such as a network the connector cannot reach for a while. It stands for a
// network outside payoutd, so its record of credits lives in a file of its own (rail.db in the data
// directory) and survives a crash of the engine: a credit the engine re-sends after a restart is
// answered from that record, never made twice. It keeps masked card numbers only.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "rails/rail.h"

namespace payoutd::rails {

struct SandboxRailOptions {
  std::string name = "sandbox";    // the rail's name (RailSet)
  std::string path;                // the network's own database file
  std::int64_t latency_ms = 100;   // until the network answers a credit or a status request
  std::int64_t timeout_ms = 3000;  // the connector's timeout: kUnknown after this long
  std::int64_t settle_ms = 2000;   // processing cards become final this long after the credit
  // The test cards that do not simply succeed (config rail.cards): PAN -> one of "decline",
  // "processing-success", "processing-decline", "timeout", "not-sent-then-success" (the first
  // not_sent_sends sends of each reference answer kNotSent and leave no credit; later ones are
  // credited). Every other card is credited.
  std::unordered_map<std::string, std::string> cards;
  int not_sent_sends = 2;
};

// Whether `behaviour` is one rail.cards may name.
bool is_sandbox_behaviour(std::string_view behaviour);

// One credit as the network recorded it (for the sandbox admin API and tests).
struct SandboxCredit {
  std::string reference, masked_pan, outcome, code, approval;
  std::int64_t amount = 0;
  std::string currency;
  int received = 0;  // how many times the reference was sent
  std::int64_t created_ms = 0, final_ms = 0;
  std::string parties;               // as the credit carried them (JSON object), or empty
  std::string operation = "credit";  // or "verification": a card check, debited and returned
  int not_sent = 0;                  // sends of the reference answered kNotSent before it
};

class SandboxRail final : public CardRail {
 public:
  SandboxRail(SandboxRailOptions options, const Clock& clock);
  ~SandboxRail() override;

  std::string_view name() const override;
  void credit(CreditOrder order, AnswerCallback done) override;
  void status(std::string reference, Program program, AnswerCallback done) override;
  void stop() override;

  std::optional<SandboxCredit> find(const std::string& reference) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace payoutd::rails
