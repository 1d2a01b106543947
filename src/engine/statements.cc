#include "engine/statements.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "core/assert.h"
#include "core/time_format.h"

namespace payoutd::engine {
namespace {

using ledger::Account;
using ledger::Transfer;
using ledger::TransferKind;

constexpr std::int64_t kDayMs = 86'400'000;

// A reference is "<payout kind>:<tenant>:<partner id>" (transfer_reference): its kind is one
// digit, which the stores' statements also read (kMovements), so a kind must stay below 10.
static_assert(static_cast<int>(store::PayoutKind::kCardPayout) < 10);
static_assert(static_cast<int>(store::PayoutKind::kFunderDebit) < 10);

MovementKind kind_of_reference(std::string_view reference) {
  if (reference.size() < 2 || reference[1] != ':') return MovementKind::kOther;
  switch (reference[0] - '0') {
    case static_cast<int>(store::PayoutKind::kFunderCredit):
      return MovementKind::kCredit;
    case static_cast<int>(store::PayoutKind::kWalletPayout):
      return MovementKind::kPayout;
    case static_cast<int>(store::PayoutKind::kCardPayout):
      return MovementKind::kCardPayout;
    case static_cast<int>(store::PayoutKind::kWalletOperation):
      return MovementKind::kOperation;
    case static_cast<int>(store::PayoutKind::kFunderDebit):
      return MovementKind::kDebit;
    default:
      return MovementKind::kOther;
  }
}

// The partner id a reference of `tenant` names: what follows "<kind>:<tenant>:".
std::string partner_id_of(std::string_view reference, std::string_view tenant) {
  const std::size_t prefix = 2 + tenant.size() + 1;
  if (reference.size() < prefix || reference.substr(2, tenant.size()) != tenant ||
      reference[prefix - 1] != ':') {
    return {};
  }
  return std::string(reference.substr(prefix));
}

bool posted(const Transfer& t) {
  return t.kind == TransferKind::kSingle || t.kind == TransferKind::kPost;
}

std::optional<std::int64_t> parse_i64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<StatementDay> statement_day(std::string_view date, int utc_offset_minutes) {
  const std::optional<std::int64_t> utc_start_ms = parse_iso_date_ms(date);
  if (!utc_start_ms) return std::nullopt;
  StatementDay day;
  day.date = std::string(date);
  day.utc_offset_minutes = utc_offset_minutes;
  // Local midnight is `offset` before UTC midnight of the same date.
  day.start_ms = *utc_start_ms - std::int64_t{utc_offset_minutes} * 60'000;
  day.end_ms = day.start_ms + kDayMs;
  return day;
}

StatementDay statement_day_of(std::int64_t at_ms, int utc_offset_minutes) {
  const std::string date = format_iso8601(at_ms, utc_offset_minutes).substr(0, 10);
  const std::optional<StatementDay> day = statement_day(date, utc_offset_minutes);
  PAYOUTD_ASSERT(day.has_value(), "format_iso8601 writes a date parse_iso_date_ms reads");
  return *day;
}

std::string_view movement_kind_name(MovementKind kind) {
  switch (kind) {
    case MovementKind::kCredit:
      return "credit";
    case MovementKind::kPayout:
      return "payout";
    case MovementKind::kCardPayout:
      return "card-payout";
    case MovementKind::kOperation:
      return "operation";
    case MovementKind::kDebit:
      return "debit";
    case MovementKind::kOther:
      break;
  }
  return "other";
}

std::string statement_cursor(const StatementLine& line) {
  return fmt::format("{}.{}", line.at_ms, line.transfer_id);
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_statement_cursor(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto at_ms = parse_i64(text.substr(0, dot));
  const auto id = parse_i64(text.substr(dot + 1));
  if (!at_ms || !id || *id <= 0) return std::nullopt;
  return std::pair{*at_ms, *id};
}

StatementLine line_of(const Account& account, const store::Movement& movement) {
  const Transfer& t = movement.transfer;
  StatementLine line;
  line.transfer_id = t.id;
  line.at_ms = t.timestamp_ms;
  line.kind = kind_of_reference(t.reference);
  line.partner_id = partner_id_of(t.reference, account.tenant);
  line.payout_id = movement.payout_id;
  line.counter_account = movement.counter_code;
  line.amount = t.credit_account_id == account.id ? t.amount : -t.amount;
  return line;
}

Statement statement_of(const Tenant& tenant, const StatementDay& day,
                       const store::MovementPage& page, std::size_t limit, bool first_page) {
  const Account& a = page.account;
  Statement s;
  s.tenant = tenant;
  s.account = a.code;
  s.account_name = a.owner;
  s.currency = a.currency;
  s.day = day;
  s.first_page = first_page;
  // Each balance is the account's balance less what moved after that place (store.h).
  s.opening = a.balance() - page.net_from_start;
  s.closing = a.balance() - page.net_after_end;
  std::int64_t balance = a.balance() - page.net_after_cursor;
  for (const store::Movement& m : page.movements) {
    StatementLine line = line_of(a, m);
    balance += line.amount;
    line.balance = balance;
    (line.amount > 0 ? s.credits : s.debits) += line.amount;
    s.lines.push_back(std::move(line));
  }
  if (page.movements.size() >= limit && !s.lines.empty()) {
    s.next_cursor = statement_cursor(s.lines.back());
  } else {
    // The page ends the day: what it started from and its lines make the closing balance.
    PAYOUTD_ASSERT(balance == s.closing,
                   "a statement's lines lead from its balance to the closing");
  }
  if (first_page) {
    PAYOUTD_ASSERT(a.balance() - page.net_after_cursor == s.opening,
                   "a statement's first page starts at the opening balance");
  }
  return s;
}

StatementRead read_statement(const store::Store& store, const Tenant& tenant, std::string_view code,
                             const StatementDay& day, std::string_view cursor, std::size_t limit) {
  store::MovementQuery q;
  q.tenant = tenant.key();
  q.kind = ledger::AccountKind::kFunder;
  q.code = std::string(code);
  q.from_ms = day.start_ms;
  q.to_ms = day.end_ms;
  q.after_ms = day.start_ms - 1;
  q.after_id = store::kMovementIdMax;
  q.limit = std::clamp<std::size_t>(limit, 1, kStatementLinesMax);
  if (!cursor.empty()) {
    const auto place = parse_statement_cursor(cursor);
    if (!place || place->first < day.start_ms || place->first >= day.end_ms) {
      return {StatementError::kBadCursor, {}};
    }
    std::tie(q.after_ms, q.after_id) = *place;
  }
  const store::Read<std::optional<store::MovementPage>> page = store.account_movements(q);
  if (!page.ok()) return {StatementError::kUnavailable, {}};
  if (!*page) return {StatementError::kNotFound, {}};
  return {StatementError::kNone, statement_of(tenant, day, **page, q.limit, cursor.empty())};
}

namespace {

// One funding account's days, in order: each day's lines (line_of, as a statement makes them)
// lead from its opening, the day before's closing, to its closing; the last closing must be the
// account's posted balance (its counters), and every line must name the payout that moved it.
void audit_account(const Account& a, const std::vector<store::Movement>& movements,
                   int utc_offset_minutes, std::vector<std::string>& violations) {
  std::int64_t closing = 0;  // of the days so far: before the first, nothing had moved
  for (const store::Movement& m : movements) {
    const StatementLine line = line_of(a, m);
    if (line.kind == MovementKind::kOther || line.partner_id.empty()) {
      violations.push_back(fmt::format("statement of {} {} on {}: transfer {} has reference {}",
                                       a.tenant, a.code,
                                       statement_day_of(line.at_ms, utc_offset_minutes).date,
                                       m.transfer.id, m.transfer.reference));
    }
    closing += line.amount;
  }
  if (closing != a.balance()) {
    violations.push_back(fmt::format(
        "statement of {} {}: its days' movements sum to {}, but its posted balance is {}", a.tenant,
        a.code, closing, a.balance()));
  }
}

}  // namespace

std::vector<std::string> audit_statements(const store::AuditSnapshot& snap,
                                          int utc_offset_minutes) {
  std::unordered_map<std::int64_t, const Account*> funders;
  for (const Account& a : snap.accounts) {
    if (a.kind == ledger::AccountKind::kFunder) funders[a.id] = &a;
  }
  std::unordered_map<std::int64_t, std::vector<store::Movement>> movements;  // by account
  std::vector<std::string> violations;
  for (const Transfer& t : snap.transfers) {
    if (!posted(t)) continue;
    for (const std::int64_t side : {t.debit_account_id, t.credit_account_id}) {
      if (funders.contains(side)) movements[side].push_back({.transfer = t});
    }
    // The stores index no payout's credit (store::MovementQuery): a statement would miss it.
    const MovementKind kind = kind_of_reference(t.reference);
    if (funders.contains(t.credit_account_id) &&
        (kind == MovementKind::kPayout || kind == MovementKind::kCardPayout)) {
      violations.push_back(fmt::format("transfer {} of payout {} credits funding account {}", t.id,
                                       t.reference, funders[t.credit_account_id]->code));
    }
  }
  for (const auto& [id, a] : funders) {
    auto& of_account = movements[id];
    std::sort(of_account.begin(), of_account.end(), [](const auto& x, const auto& y) {
      return std::pair{x.transfer.timestamp_ms, x.transfer.id} <
             std::pair{y.transfer.timestamp_ms, y.transfer.id};
    });
    audit_account(*a, of_account, utc_offset_minutes, violations);
  }
  return violations;
}

}  // namespace payoutd::engine
