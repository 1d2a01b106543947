#pragma once
// Daily statements of funding accounts (docs/admin.md, "Statements and reconciliation reports"):
// for one account and one day, the opening balance, every posted movement with its ids and the
// balance after it, and the closing balance. Computed from the ledger's immutable transfers, so it
// reconciles by construction: opening + movements = closing, a day's opening is the day before's
// closing, and the closing of the day in progress is the account's balance. `payoutd audit` checks
// exactly that for every funding account and every day (audit_statements).
//
// A movement changes the posted balance: a single transfer or the post of a reservation. A
// reservation is no movement until it is posted (the day it is posted, at its post's time); a
// voided one never is. What is reserved now is the funder's `reserved` (GET .../funders/{code}).
//
// Pure except read_statement, which reads the store (any thread).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tenant.h"
#include "store/store.h"

namespace payoutd::engine {

// The statements' day: [statements] utc_offset, by default the server's zone (+03:00).
inline constexpr int kStatementUtcOffsetMinutesDefault = 180;
// The most lines one statement page may hold, whatever the config says.
inline constexpr std::size_t kStatementLinesMax = 100'000;

// [statements] of the config: the day's zone and the bound on one answer.
struct StatementOptions {
  int utc_offset_minutes = kStatementUtcOffsetMinutesDefault;
  // Lines of one statement page, and payouts of one card payouts report answer: a day with more
  // is read in pages, each naming the next's cursor.
  std::size_t lines_max = 10'000;
};

// One local day: [start_ms, end_ms) at a fixed UTC offset.
struct StatementDay {
  std::string date;  // YYYY-MM-DD
  int utc_offset_minutes = 0;
  std::int64_t start_ms = 0, end_ms = 0;
};
// The day `date` (YYYY-MM-DD) at `utc_offset_minutes`; nullopt when the date is malformed.
std::optional<StatementDay> statement_day(std::string_view date, int utc_offset_minutes);
// The day that holds `at_ms` at `utc_offset_minutes`.
StatementDay statement_day_of(std::int64_t at_ms, int utc_offset_minutes);

// What moved the money, from the transfer's reference (the payout kind it names).
enum class MovementKind : std::uint8_t {
  kCredit,      // the operator's credit from outside (admin creditId)
  kPayout,      // a wallet payout (QIWI transactionId)
  kCardPayout,  // a card payout (Bereke orderNumber, ecommpay payment id)
  kOperation,   // a sandbox wallet operation (admin operationId)
  kDebit,       // the operator's debit to the partner's bank (admin debitId)
  kOther,       // a reference this build does not know (audit names it)
};
std::string_view movement_kind_name(MovementKind kind);  // "credit", "payout", ...

struct StatementLine {
  std::int64_t transfer_id = 0;
  std::int64_t at_ms = 0;
  MovementKind kind = MovementKind::kOther;
  std::string partner_id;       // the partner's id of the payout (or credit) that moved it
  std::int64_t payout_id = 0;   // payoutd's id of that payout; 0 when none was found
  std::string counter_account;  // the other account's code (a wallet, "card-rail:KZT", ...)
  std::int64_t amount = 0;      // signed: a credit to the account positive, a debit negative
  std::int64_t balance = 0;     // the account's posted balance after it
};

struct Statement {
  Tenant tenant;
  std::string account;  // the funding account's code
  std::string account_name;
  Currency currency;
  StatementDay day;
  std::int64_t opening = 0, closing = 0;  // posted balances at the day's start and end
  // Of this page's lines: credits (positive) and debits (negative, as a negative number).
  std::int64_t credits = 0, debits = 0;
  std::vector<StatementLine> lines;
  // The place after this page's last line, when the day has more lines than the page held: the
  // next page's cursor (statement_cursor). Empty when this page ends the day.
  std::string next_cursor;
  bool first_page = true;  // the page starts at the day's first movement
};

// "<timestamp_ms>.<transfer id>" of the place after `line`, and its reading; nullopt when the
// text is no cursor.
std::string statement_cursor(const StatementLine& line);
std::optional<std::pair<std::int64_t, std::int64_t>> parse_statement_cursor(std::string_view text);

// The movement's line for `account`: its kind, ids, signed amount. `balance` is left 0.
StatementLine line_of(const ledger::Account& account, const store::Movement& movement);

// The statement page `page` (read with `limit` lines after `cursor`) makes. Asserts the
// arithmetic: when the page ends the day, opening + every line = closing.
Statement statement_of(const Tenant& tenant, const StatementDay& day,
                       const store::MovementPage& page, std::size_t limit, bool first_page);

// What read_statement answers.
enum class StatementError : std::uint8_t { kNone, kNotFound, kBadCursor, kUnavailable };
struct StatementRead {
  StatementError error = StatementError::kNone;
  Statement statement;
};
// Reads one page of the statement of the funding account `code` of `tenant` for `day`: at most
// `limit` lines after `cursor` (empty: from the day's start). kNotFound: no such funding account;
// kBadCursor: a cursor that is malformed or outside the day; kUnavailable: the store failed.
StatementRead read_statement(const store::Store& store, const Tenant& tenant, std::string_view code,
                             const StatementDay& day, std::string_view cursor, std::size_t limit);

// Every funding account's statements, recomputed from the snapshot's posted transfers with
// line_of, day by day at `utc_offset_minutes`: the days' lines, each day starting from the day
// before's closing (the first from 0), must end at the account's posted balance as its counters
// hold it, and every line must name the payout (or credit) that moved it; and no payout may credit
// a funding account (the stores' index of credits leaves payouts out). One line per violation.
std::vector<std::string> audit_statements(const store::AuditSnapshot& snapshot,
                                          int utc_offset_minutes);

}  // namespace payoutd::engine
