#include "reports/card_payouts.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/json.h"
#include "core/money.h"
#include "core/time_format.h"
#include "engine/cards/records.h"
#include "web/api.h"
#include "web/csv.h"

namespace payoutd::reports {
namespace {

using engine::CardOrder;
using store::PayoutRecord;
using store::PayoutStatus;

// Payouts read from the store at a time: one records_with_keys for their orders.
constexpr std::size_t kPayoutsPerRead = 500;
static_assert(kPayoutsPerRead <= store::kRecordKeysMax);

// Whether the order's credit went, or may have gone, to a rail: a send was counted, or the rail
// answered. Orders of earlier releases count no sends but keep the answer.
bool reached_rail(const CardOrder& o) {
  return o.rail_sends > 0 || o.operation_ms > 0 || !o.approval.empty() || !o.rail_code.empty() ||
         !o.rail_state.empty();
}

// The payout's group; nullopt when it never reached a rail (nothing to reconcile).
std::optional<RailAnswer> answer_of(const PayoutRecord& p, const CardOrder& o) {
  if (p.status == PayoutStatus::kSuccess) return RailAnswer::kApproved;
  if (!reached_rail(o)) return std::nullopt;
  if (p.status == PayoutStatus::kDeclined) return RailAnswer::kDeclined;
  if (o.stage == engine::OrderStage::kSending || o.stage == engine::OrderStage::kAwaiting) {
    return RailAnswer::kAwaiting;
  }
  return std::nullopt;
}

CardPayoutLine line_of(RailAnswer answer, const Tenant& tenant, const PayoutRecord& p,
                       const CardOrder& o) {
  return {.answer = answer,
          .tenant = tenant,
          .payout_id = p.id,
          .partner_id = p.partner_id,
          .masked_card = o.masked_pan,
          .amount = {p.amount, p.currency},
          .rail = o.rail,
          .rail_reference = o.order_id,
          .approval = o.approval,
          .rail_code = o.rail_code,
          .rail_state = answer == RailAnswer::kAwaiting ? o.rail_state : std::string(),
          .created_ms = p.created_ms,
          .answered_ms = answer == RailAnswer::kAwaiting ? 0 : o.operation_ms};
}

// "<tenant key>/<payout id>": the next answer starts at that tenant's payouts below the id.
std::optional<std::pair<std::string, std::int64_t>> parse_cursor(std::string_view text) {
  const std::size_t slash = text.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::int64_t id = 0;
  const std::string_view digits = text.substr(slash + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return std::pair{std::string(text.substr(0, slash)), id};
}

// Reads the tenant's card payouts of the day below `before_id` (0: all) into `report`, until
// `limit` lines are in it; then sets its cursor. False when the store failed.
bool read_tenant(const store::Store& store, const Tenant& tenant, std::int64_t before_id,
                 const CardPayoutsQuery& q, CardPayoutsReport& report) {
  store::PayoutQuery page_query{.tenant = tenant.key(),
                                .created_from_ms = q.day.start_ms,
                                .created_to_ms = q.day.end_ms,
                                .before_id = before_id,
                                .limit = kPayoutsPerRead};
  for (;;) {
    const auto page = store.payouts_page(page_query);
    if (!page.ok()) return false;
    std::vector<std::string> keys;
    for (const PayoutRecord& p : *page) {
      if (p.kind == store::PayoutKind::kCardPayout) keys.push_back(p.partner_id);
    }
    const auto records = store.records_with_keys(page_query.tenant, engine::kOrderRecord, keys);
    if (!records.ok()) return false;
    const std::map<std::string, std::string> orders(records->begin(), records->end());
    for (const PayoutRecord& p : *page) {
      if (report.lines.size() >= q.limit) {
        report.next_cursor = page_query.tenant + "/" + std::to_string(p.id + 1);
        return true;
      }
      const auto record = orders.find(p.partner_id);
      if (p.kind != store::PayoutKind::kCardPayout || record == orders.end()) continue;
      const std::optional<CardOrder> order = engine::order_from_json(record->second);
      if (!order || (!q.rail.empty() && order->rail != q.rail)) continue;
      if (const auto answer = answer_of(p, *order)) {
        report.lines.push_back(line_of(*answer, tenant, p, *order));
      }
    }
    if (page->size() < page_query.limit) return true;
    page_query.before_id = page->back().id;
  }
}

void add_totals(CardPayoutsReport& report) {
  std::map<std::pair<int, std::string>, CardPayoutTotal> totals;
  for (const CardPayoutLine& l : report.lines) {
    CardPayoutTotal& t =
        totals[{static_cast<int>(l.answer), std::string(l.amount.currency.code())}];
    t.answer = l.answer;
    t.currency = l.amount.currency;
    ++t.count;
    t.amount += l.amount.minor;
  }
  for (auto& [key, total] : totals) report.totals.push_back(total);
}

std::string time_text(std::int64_t at_ms, int utc_offset_minutes) {
  return at_ms ? format_iso8601(at_ms, utc_offset_minutes) : std::string();
}

}  // namespace

std::string_view rail_answer_name(RailAnswer answer) {
  switch (answer) {
    case RailAnswer::kApproved:
      return "approved";
    case RailAnswer::kDeclined:
      return "declined";
    case RailAnswer::kAwaiting:
      break;
  }
  return "awaiting";
}

ReportRead read_card_payouts(const store::Store& store, const std::vector<Tenant>& tenants,
                             const CardPayoutsQuery& q) {
  ReportRead read;
  read.report.day = q.day;
  read.report.rail = q.rail;
  std::vector<Tenant> ordered = tenants;
  std::sort(ordered.begin(), ordered.end(),
            [](const Tenant& a, const Tenant& b) { return a.key() < b.key(); });
  std::optional<std::pair<std::string, std::int64_t>> start;
  if (!q.cursor.empty()) {
    start = parse_cursor(q.cursor);
    if (!start) return {ReportError::kBadCursor, {}};
  }
  for (const Tenant& tenant : ordered) {
    const std::string key = tenant.key();
    if (start && key < start->first) continue;
    const std::int64_t before_id = start && key == start->first ? start->second : 0;
    if (!read_tenant(store, tenant, before_id, q, read.report))
      return {ReportError::kUnavailable, {}};
    if (!read.report.next_cursor.empty()) break;
  }
  std::stable_sort(read.report.lines.begin(), read.report.lines.end(),
                   [](const auto& a, const auto& b) { return a.answer < b.answer; });
  add_totals(read.report);
  return read;
}

std::string card_payouts_csv(const CardPayoutsReport& r) {
  std::string out =
      "answer,tenant,payout_id,partner_id,card,amount,currency,rail,rail_reference,approval_code,"
      "rail_code,rail_state,created,answered\r\n";
  const int offset = r.day.utc_offset_minutes;
  for (const CardPayoutLine& l : r.lines) {
    const std::string tenant = l.tenant.key(), id = std::to_string(l.payout_id);
    const std::string amount = format_decimal(l.amount.minor, l.amount.currency.exponent());
    for (std::string_view field :
         {rail_answer_name(l.answer), std::string_view(tenant), std::string_view(id),
          std::string_view(l.partner_id), std::string_view(l.masked_card)}) {
      web::csv_field(out, field);
      out.push_back(',');
    }
    out.append(amount).push_back(',');  // payoutd's own decimal: written as it is
    web::csv_record(
        out, {l.amount.currency.code(), l.rail, l.rail_reference, l.approval, l.rail_code,
              l.rail_state, time_text(l.created_ms, offset), time_text(l.answered_ms, offset)});
  }
  for (const CardPayoutTotal& t : r.totals) {
    web::csv_field(out, rail_answer_name(t.answer));
    out.append(",total,").append(std::to_string(t.count)).append(",,,");
    out.append(format_decimal(t.amount, t.currency.exponent())).push_back(',');
    web::csv_record(out, {t.currency.code(), "", "", "", "", "", "", ""});
  }
  return out;
}

namespace {

void write_line(json::Writer& w, const CardPayoutLine& l, int offset) {
  w.begin_object();
  w.key("tenant").string(l.tenant.key());
  w.key("payoutId").integer(l.payout_id);
  w.key("partnerId").string(l.partner_id);
  w.key("card").string(l.masked_card);
  web::write_amount(w, "amount", l.amount.minor, l.amount.currency);
  w.key("rail").string(l.rail);
  w.key("railReference").string(l.rail_reference);
  if (!l.approval.empty()) w.key("approvalCode").string(l.approval);
  if (!l.rail_code.empty()) w.key("railCode").string(l.rail_code);
  if (!l.rail_state.empty()) w.key("railState").string(l.rail_state);
  w.key("created").string(format_iso8601(l.created_ms, offset));
  if (l.answered_ms) w.key("answered").string(format_iso8601(l.answered_ms, offset));
  w.end_object();
}

}  // namespace

std::string card_payouts_json(const CardPayoutsReport& r) {
  const int offset = r.day.utc_offset_minutes;
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("date").string(r.day.date);
  w.key("from").string(format_iso8601(r.day.start_ms, offset));
  w.key("to").string(format_iso8601(r.day.end_ms, offset));
  if (!r.rail.empty()) w.key("rail").string(r.rail);
  w.key("groups").begin_object();
  for (RailAnswer answer : kRailAnswers) {
    w.key(rail_answer_name(answer)).begin_object().key("payouts").begin_array();
    for (const CardPayoutLine& l : r.lines) {
      if (l.answer == answer) write_line(w, l, offset);
    }
    w.end_array().key("totals").begin_array();
    for (const CardPayoutTotal& t : r.totals) {
      if (t.answer != answer) continue;
      w.begin_object().key("count").integer(t.count);
      web::write_amount(w, "amount", t.amount, t.currency);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_object();
  if (!r.next_cursor.empty()) w.key("nextCursor").string(r.next_cursor);
  w.end_object();
  return out;
}

}  // namespace payoutd::reports
