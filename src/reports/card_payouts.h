#pragma once
// The card payouts of a day by the card network's answer, for the operator's daily
// reconciliation with the network (docs/admin.md, "Statements and reconciliation reports", "Card
// payouts by rail answer"): every card payout created that day (local day, the statements' offset)
// that went to a rail, grouped as approved, declined, or awaiting reconciliation (no final answer
// yet: the rail said processing, did not answer in time, or the send was refused and waits to go
// again), each with what the network's files name it by, and totals per group and currency.
//
// A payout declined before any send (no route, a per-card limit, an expired hosted page) never
// reached a network: it has nothing to reconcile and is not listed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tenant.h"
#include "engine/statements.h"
#include "store/store.h"

namespace payoutd::reports {

enum class RailAnswer : std::uint8_t { kApproved, kDeclined, kAwaiting };
inline constexpr RailAnswer kRailAnswers[] = {RailAnswer::kApproved, RailAnswer::kDeclined,
                                              RailAnswer::kAwaiting};
std::string_view rail_answer_name(RailAnswer answer);  // "approved", "declined", "awaiting"

struct CardPayoutLine {
  RailAnswer answer = RailAnswer::kAwaiting;
  Tenant tenant;
  std::int64_t payout_id = 0;  // payoutd's id of the payout
  std::string partner_id;      // the partner's (orderNumber, payment id)
  std::string masked_card;     // at most the first 6 and the last 4 digits
  Amount amount;
  std::string rail;            // the rail it went to (rails::RailSet's name)
  std::string rail_reference;  // what payoutd sent as the reference: the order's id
  std::string approval;        // approved: the network's retrieval reference number
  std::string rail_code;       // declined: the network's response code (e.g. "05")
  std::string rail_state;      // awaiting: why ("processing", "unknown", "not-sent")
  std::int64_t created_ms = 0;
  std::int64_t answered_ms = 0;  // when the network decided; 0 while awaiting
};

struct CardPayoutTotal {
  RailAnswer answer = RailAnswer::kAwaiting;
  Currency currency;
  std::int64_t count = 0, amount = 0;
};

struct CardPayoutsReport {
  engine::StatementDay day;
  std::string rail;                     // the filter; empty: every rail
  std::vector<CardPayoutLine> lines;    // by answer, then tenant, then newest first
  std::vector<CardPayoutTotal> totals;  // of `lines`, by answer and currency
  // When the day holds more than the answer's limit: where the next answer starts (lines and
  // totals are then this answer's only).
  std::string next_cursor;
};

struct CardPayoutsQuery {
  engine::StatementDay day;
  std::string rail;    // only payouts sent to this rail; empty: all
  std::string cursor;  // a next_cursor; empty: from the start
  std::size_t limit = 10'000;
};

enum class ReportError : std::uint8_t { kNone, kBadCursor, kUnavailable };
struct ReportRead {
  ReportError error = ReportError::kNone;
  CardPayoutsReport report;
};

// Reads the report over `tenants` (those that pay cards; others have no card payouts).
ReportRead read_card_payouts(const store::Store& store, const std::vector<Tenant>& tenants,
                             const CardPayoutsQuery& query);

// The report's CSV (a header line, then a row per payout, then a `total` row per group and
// currency) and JSON. docs/admin.md, "Statements and reconciliation reports" is the contract of
// both.
std::string card_payouts_csv(const CardPayoutsReport& report);
std::string card_payouts_json(const CardPayoutsReport& report);

}  // namespace payoutd::reports
