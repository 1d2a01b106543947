// The admin API's search of payouts across partners, and its route table (admin/payouts_api.h).
#include "admin/payouts_api.h"

#include <algorithm>
#include <map>

#include "admin/answers.h"
#include "admin/query_params.h"
#include "admin/routes.h"
#include "core/time_format.h"
#include "engine/cards/records.h"
#include "http/query.h"
#include "web/api.h"

namespace payoutd::admin {
namespace {

using store::PayoutKind;
using store::PayoutStatus;

constexpr std::size_t kSearchTextMax = 64;  // a partner id or a card as typed
constexpr std::string_view kSearchHelp =
    "tenant: a tenant's key; id: a partner id, a payout's id or a card order's id; card: the first "
    "6 "
    "and last 4 digits (220070******1234, or 220070 1234), never the whole number; status: "
    "PROCESSING, SUCCESS or DECLINED; from, to: YYYY-MM-DD or ms; min, max: amounts, with "
    "currency; cursor: a nextCursor; limit: 1 to 200";

std::string_view status_name(PayoutStatus s) {
  switch (s) {
    case PayoutStatus::kProcessing:
      return "PROCESSING";
    case PayoutStatus::kSuccess:
      return "SUCCESS";
    case PayoutStatus::kDeclined:
      break;
  }
  return "DECLINED";
}

std::optional<PayoutStatus> status_of(std::string_view name) {
  for (PayoutStatus s :
       {PayoutStatus::kProcessing, PayoutStatus::kSuccess, PayoutStatus::kDeclined})
    if (status_name(s) == name) return s;
  return std::nullopt;
}

// A card as an operator types it: its first 6 and last 4 digits, with the digits between masked
// (X, x or *) or left out, spaces anywhere: "2200701234". Empty for anything else, a whole card
// number included (it is never searched for, nor stored where it could be).
std::string card_key(std::string_view typed) {
  std::string kept;
  for (char c : typed) {
    if (c != ' ') kept.push_back(c);
  }
  if (kept.size() < 10) return {};
  const std::string_view head = std::string_view(kept).substr(0, 6);
  const std::string_view tail = std::string_view(kept).substr(kept.size() - 4);
  const std::string_view middle = std::string_view(kept).substr(6, kept.size() - 10);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto mask = [](char c) { return c == 'X' || c == 'x' || c == '*'; };
  if (!std::all_of(head.begin(), head.end(), digit) ||
      !std::all_of(tail.begin(), tail.end(), digit) ||
      !std::all_of(middle.begin(), middle.end(), mask) || middle.size() > 9) {
    return {};
  }
  return std::string(head) + std::string(tail);
}

// cursor=<created_ms>-<id>, as nextCursor gives it.
bool parse_cursor(std::string_view text, store::PayoutSearch* q) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return false;
  const auto created = text.substr(0, dash) == "0" ? std::optional<std::int64_t>(0)
                                                   : positive_number(text.substr(0, dash));
  const auto id = positive_number(text.substr(dash + 1));
  if (!created || !id) return false;
  q->before_created_ms = *created;
  q->before_id = *id;
  return true;
}

// min= and max=, decimal amounts of `currency`.
bool parse_amounts(const http::QueryParam& min, const http::QueryParam& max,
                   store::PayoutSearch* q) {
  if (!min.present && !max.present) return true;
  const std::optional<Currency> currency = Currency::from_code(q->currency);
  if (!currency || !min.valid || !max.valid) return false;
  for (const auto& [p, target] :
       {std::pair{&min, &q->amount_min}, std::pair{&max, &q->amount_max}}) {
    if (!p->present) continue;
    const DecimalParse d = parse_decimal(p->value, currency->exponent());
    if (d.error != DecimalError::kNone || d.minor < 0) return false;
    *target = d.minor;
  }
  return q->amount_min <= q->amount_max;
}

// The search a query asks for, its key `id` left in `id_text`; nullopt when malformed.
std::optional<store::PayoutSearch> parse_search(std::string_view query, std::string* id_text) {
  const auto param = [query](std::string_view name) { return http::query_param(query, name); };
  store::PayoutSearch q;
  const http::QueryParam tenant = param("tenant"), id = param("id"), card = param("card");
  const http::QueryParam status = param("status"), currency = param("currency");
  const http::QueryParam cursor = param("cursor");
  for (const http::QueryParam* p : {&tenant, &id, &card, &status, &currency, &cursor}) {
    if (!p->valid || p->value.size() > kSearchTextMax) return std::nullopt;
  }
  if (tenant.present && !Tenant::parse(tenant.value)) return std::nullopt;
  q.tenant = tenant.value;
  if (id.present && !web::is_partner_id(id.value, kSearchTextMax)) return std::nullopt;
  *id_text = id.value;
  if (card.present && (q.card = card_key(card.value)).empty()) return std::nullopt;
  if (status.present && !(q.status = status_of(status.value))) return std::nullopt;
  if (currency.present && !Currency::from_code(currency.value)) return std::nullopt;
  q.currency = currency.value;
  if (cursor.present && !parse_cursor(cursor.value, &q)) return std::nullopt;
  const auto from = time_param(param("from"), false);
  const auto to = time_param(param("to"), true);
  const auto limit = number_param(param("limit"), 50);
  if (!from || !to || !limit || *limit > std::int64_t{kPayoutsPageMax}) return std::nullopt;
  q.created_from_ms = *from;
  if (*to > 0) q.created_to_ms = *to;
  q.limit = static_cast<std::size_t>(*limit);
  q.scan_max = kSearchScanMax;
  if (!parse_amounts(param("min"), param("max"), &q)) return std::nullopt;
  return q;
}

using Page = store::Read<store::PayoutSearchPage>;

// Newest first, as the store orders a page.
bool newer(const store::PayoutRecord& a, const store::PayoutRecord& b) {
  return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.id > b.id;
}

// id=: a partner id of any tenant; also the payout of that store id when it is a number, and the
// payout of that card order when it is one's id (the reference the card network knows). Each
// read is by key, so their union is small: merged, newest first, cut at the limit.
Page search_by_id(const store::Store& store, store::PayoutSearch q, const std::string& id) {
  q.partner_id = id;
  Page page = store.search_payouts(q);
  if (!page.ok()) return page;
  q.partner_id.clear();
  if (const auto number = positive_number(id)) {
    q.payout_id = *number;
  } else if (const auto order = store.get_record("", engine::kOrderIdIndex, id);
             order.ok() && *order) {
    const std::size_t separator = (*order)->find(engine::kFieldSeparator);
    std::string tenant = (*order)->substr(0, separator);
    // The order of another tenant than the one asked for is not this search's.
    if (q.tenant.empty() || q.tenant == tenant) {
      q.partner_id = (*order)->substr(separator + 1);
      q.tenant = std::move(tenant);
    }
  } else if (!order.ok()) {
    return Failure{order.error()};
  }
  if (q.payout_id == 0 && q.partner_id.empty()) return page;
  Page more = store.search_payouts(q);
  if (!more.ok()) return more;
  auto& all = page->payouts;
  for (const store::PayoutRecord& p : more->payouts) {
    if (std::none_of(all.begin(), all.end(), [&](const auto& a) { return a.id == p.id; })) {
      all.push_back(p);
    }
  }
  std::sort(all.begin(), all.end(), newer);
  // More follow when the partner ids' page had more, or the union is longer than a page; the next
  // page is every read again after its last payout.
  const bool more_follow = page->next_id != 0 || all.size() > q.limit;
  if (all.size() > q.limit) all.resize(q.limit);
  page->next_id = 0;
  if (more_follow && !all.empty()) {
    page->next_created_ms = all.back().created_ms;
    page->next_id = all.back().id;
  }
  return page;
}

}  // namespace

store::Read<std::map<std::int64_t, std::string>> masked_cards(
    const store::Store& store, const std::vector<store::PayoutRecord>& page) {
  std::map<std::string, std::vector<const store::PayoutRecord*>> by_tenant;
  for (const store::PayoutRecord& p : page) {
    if (p.kind == PayoutKind::kCardPayout) by_tenant[p.tenant].push_back(&p);
  }
  std::map<std::int64_t, std::string> cards;
  for (const auto& [tenant, payouts] : by_tenant) {
    std::vector<std::string> keys;
    for (const store::PayoutRecord* p : payouts) keys.push_back(p->partner_id);
    const auto records = store.records_with_keys(tenant, engine::kOrderRecord, keys);
    if (!records.ok()) return Failure{records.error()};
    for (const auto& record : *records) {
      const std::string& partner_id = record.first;
      const auto order = engine::order_from_json(record.second);
      const auto p = std::find_if(payouts.begin(), payouts.end(),
                                  [&](const auto* x) { return x->partner_id == partner_id; });
      if (order && p != payouts.end()) cards.emplace((*p)->id, order->masked_pan);
    }
  }
  return cards;
}

void write_payout_summary(json::Writer& w, const store::PayoutRecord& p, std::string_view card) {
  w.begin_object().key("id").integer(p.id).key("tenant").string(p.tenant);
  w.key("partnerId").string(p.partner_id);
  w.key("type").string(p.kind == PayoutKind::kCardPayout ? "card" : "wallet");
  w.key("status").string(status_name(p.status));
  if (!p.decline_code.empty()) w.key("declineCode").string(p.decline_code);
  web::write_amount(w, "amount", p.amount, p.currency);
  w.key("createdAt").string(format_iso8601(p.created_ms, 0)).key("createdMs").integer(p.created_ms);
  w.key("updatedMs").integer(p.updated_ms);
  if (!card.empty()) w.key("card").string(card);
  w.end_object();
}

PayoutsApi::PayoutsApi(engine::PayoutEngine& engine, const store::Store& store,
                       PayoutsApiOptions options)
    : engine_(engine), store_(store), options_(options) {}

bool PayoutsApi::handle(http::Request& request, const Actor& actor,
                        std::span<const std::string> path, const http::Responder& respond) {
  using Answer = void (PayoutsApi::*)(const Call&);
  static constexpr Route<Answer> kRoutes[] = {
      {Role::kViewer, "GET", "payouts", "use GET", &PayoutsApi::search},
      {Role::kViewer, "GET", "payouts/*", "use GET", &PayoutsApi::timeline},
      {Role::kViewer, "GET", "attention", "use GET", &PayoutsApi::attention},
      {Role::kSupport, "POST", "outbox/*/redeliver", "use POST", &PayoutsApi::redeliver},
  };
  const Routed found = find_route(kRoutes, request.method, path);
  if (!found.route) return false;
  if (admit(found, actor, respond)) (this->*found.route->answer)({request, path, respond});
  return true;
}

void PayoutsApi::answer_read(const Call& call, http::Response r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  engine_.answer_when_durable(call.respond, std::move(r), unavailable);
}

void PayoutsApi::search(const Call& call) {
  std::string id;
  const std::optional<store::PayoutSearch> q = parse_search(call.request.query(), &id);
  if (!q) return call.respond(error(400, "validation.error", kSearchHelp));
  const Page page = id.empty() ? store_.search_payouts(*q) : search_by_id(store_, *q, id);
  if (!page.ok()) return call.respond(unavailable());
  const auto cards = masked_cards(store_, page->payouts);
  if (!cards.ok()) return call.respond(unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("payouts").begin_array();
  for (const store::PayoutRecord& p : page->payouts) {
    const auto card = cards->find(p.id);
    write_payout_summary(w, p, card == cards->end() ? std::string_view() : card->second);
  }
  w.end_array();
  if (page->next_id != 0) {
    w.key("nextCursor")
        .string(std::to_string(page->next_created_ms) + "-" + std::to_string(page->next_id));
  }
  w.end_object();
  answer_read(call, std::move(r));
}

}  // namespace payoutd::admin
