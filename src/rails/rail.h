#pragma once
// Card rails: the card networks a payout leaves through (MoneySend, Visa Direct style original
// credit transactions). The engine talks to a rail only off the request path and never holds a
// lock or a transaction across a call: it commits the reservation, calls the rail, and commits
// the answer in a later batch.
//
// Contract of every rail:
// - A credit is identified by the engine's reference. Sending one reference again (after a crash,
//   or when the first answer was lost) never credits the card twice: the network answers from
//   its record of the first.
// - Each callback runs exactly once, on a thread of the rail's, within the rail's timeout.
//   kUnknown means no answer came in time: the outcome is not known, and the engine asks
//   status() until it is final. It never guesses.
// - kNotSent is the one answer that says the network certainly does not have the request: a
//   connector gives it only when no byte of the request was written to a connected socket (the
//   circuit is open, the connection or the TLS handshake failed, or it refused the order itself).
//   Anything that may have reached the network is kUnknown instead. The engine keeps the
//   reservation and sends the credit again later (same reference); it never declines for it.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/money.h"

namespace payoutd::rails {

struct RailCallStatsSnapshot;  // rails/rail_stats.h

// Who pays whom: the card program a credit travels on, which chooses the network's product
// (docs/rails.md, per connector). The engine's order records it when a dialect creates it.
enum class Program : std::uint8_t {
  kDisbursement,    // a business pays a person (Mastercard Send Disbursements, Visa's FD)
  kPersonToPerson,  // a person sends to a person (Mastercard Send Payment Transfer, Visa's PP)
};

struct CreditOrder {
  std::string reference;   // the engine's, unique per payout
  std::string pan;         // clear: the only place it travels outside the vault
  std::string cardholder;  // may be empty
  Amount amount;
  std::string parties;  // the sender and recipient its program needs (JSON object; may be empty)
  // A card check instead of a credit (adding a corporate card): the network debits `amount`
  // from the card and returns it at once; approved means the card is the holder's and works.
  bool verification = false;
  // Whether an earlier send of this reference to this rail may have reached the network (a
  // re-send after a crash, a lost answer or kNotFound). A connector whose network does not answer
  // a repeat from its record of the first looks for the first before it sends (docs/rails.md,
  // Visa Direct). True unless the caller knows better: looking first is the safe side.
  bool sent_before = true;
  Program program = Program::kDisbursement;  // the order's (engine::CardOrder::program)
};

enum class Outcome : std::uint8_t {
  kApproved,    // final: the card was credited
  kDeclined,    // final: the issuer or the network refused
  kProcessing,  // accepted, not final yet: ask status() later
  kUnknown,     // no answer in time, or the network is unreachable
  kNotFound,    // status(): the network never received this reference
  kNotSent,     // the request certainly never reached the network (see the contract above)
};

const char* to_string(Outcome outcome);

struct Answer {
  Outcome outcome = Outcome::kUnknown;
  std::string approval;    // approved: the network's 12-digit retrieval reference number
  std::string code;        // declined: the network's response code, e.g. "05"
  std::string text;        // English description of the answer
  std::int64_t at_ms = 0;  // when the network decided (final answers)
};
using AnswerCallback = std::function<void(Answer)>;

class CardRail {
 public:
  virtual ~CardRail() = default;
  virtual std::string_view name() const = 0;
  virtual void credit(CreditOrder order, AnswerCallback done) = 0;
  // The credit's answer as the network has it now. `program` is the credit's (CreditOrder's): a
  // network keeps each program's credits apart (Mastercard Send: transfers, disbursements).
  virtual void status(std::string reference, Program program, AnswerCallback done) = 0;
  // Answers every call still waiting with kUnknown and stops; later calls answer kUnknown.
  virtual void stop() = 0;
  // The connector's counters of calls by outcome and their latency into *out (rail_stats.h);
  // false when the rail keeps none (the sandbox network).
  virtual bool call_stats(RailCallStatsSnapshot* /*out*/) const { return false; }
};

}  // namespace payoutd::rails
