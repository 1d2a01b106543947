#include <algorithm>
#include <array>
#include <map>

#include "cabinet/pages.h"
#include "core/log_context.h"
#include "core/money.h"
#include "core/time_format.h"
#include "engine/cards/records.h"
#include "web/csv.h"
#include "web/forms.h"
#include "web/html.h"
#include "web/template.h"

namespace payoutd::cabinet {

using store::PayoutKind;
using store::PayoutStatus;
using Params = web::FormParams;

namespace {

constexpr std::size_t kPageSize = 50;
constexpr std::size_t kCsvRowsMax = 100'000;
constexpr std::string_view kCsvHeader =
    "id,created_utc,updated_utc,type,partner_id,amount,currency,status,decline_code,"
    "description\r\n";

std::string_view status_name(PayoutStatus s, const Texts& t) {
  switch (s) {
    case PayoutStatus::kSuccess:
      return t.success;
    case PayoutStatus::kDeclined:
      return t.declined;
    case PayoutStatus::kProcessing:
      break;
  }
  return t.processing;
}

std::string_view status_key(PayoutStatus s) {
  switch (s) {
    case PayoutStatus::kSuccess:
      return "success";
    case PayoutStatus::kDeclined:
      return "declined";
    case PayoutStatus::kProcessing:
      break;
  }
  return "processing";
}

std::string_view kind_key(PayoutKind k) { return k == PayoutKind::kCardPayout ? "card" : "wallet"; }

// "p.jeltz@mail.com" -> "p.j***@mail.com": the cabinet never shows a customer's whole address.
// The rails a card payout left for its fallback, and why ("sandbox: not-sent CB circuit open").
std::string rails_left(const engine::CardOrder& o) {
  std::string text;
  for (const engine::RailAttempt& a : o.rail_attempts) {
    if (!text.empty()) text += "; ";
    text += a.rail + ": " + a.result;
    if (!a.code.empty()) text += " " + a.code;
    if (!a.text.empty()) text += " " + a.text;
  }
  return text;
}

std::string masked_target(std::string_view target) {
  if (!target.starts_with("mailto:")) return std::string(target);
  std::string_view email = target.substr(7);
  const auto at = email.find('@');
  if (at == std::string_view::npos) return "mailto:***";
  return "mailto:" + std::string(email.substr(0, std::min<std::size_t>(3, at))) + "***" +
         std::string(email.substr(at));
}

struct Filters {
  store::PayoutQuery query;
  Params shown;  // the filters as the form shows them (and links repeat them)
  bool valid = true;
};

Filters filters_of(const std::string& tenant, const Params& p) {
  Filters f;
  f.query.tenant = tenant;
  for (const char* name : {"status", "from", "to", "min", "max", "id"})
    f.shown.emplace_back(name, web::form_value(p, name));
  const std::string status = web::form_value(p, "status");
  if (status == "processing")
    f.query.status = PayoutStatus::kProcessing;
  else if (status == "success")
    f.query.status = PayoutStatus::kSuccess;
  else if (status == "declined")
    f.query.status = PayoutStatus::kDeclined;
  else if (!status.empty())
    f.valid = false;
  if (const std::string from = web::form_value(p, "from"); !from.empty()) {
    auto ms = parse_iso_date_ms(from);
    f.valid &= ms.has_value();
    f.query.created_from_ms = ms.value_or(0);
  }
  if (const std::string to = web::form_value(p, "to"); !to.empty()) {
    auto ms = parse_iso_date_ms(to);
    f.valid &= ms.has_value();
    f.query.created_to_ms = ms ? *ms + kDayMs : 0;  // the whole day
  }
  for (const auto& [name, target] :
       {std::pair<const char*, std::int64_t*>{"min", &f.query.amount_min},
        {"max", &f.query.amount_max}}) {
    const std::string text = web::form_value(p, name);
    if (text.empty()) continue;
    const DecimalParse d = parse_decimal(text, 2);
    f.valid &= d.error == DecimalError::kNone && d.minor >= 0;
    *target = d.minor;
  }
  f.query.partner_id = web::form_value(p, "id");
  f.valid &= f.query.partner_id.size() <= 255;
  const std::string before = web::form_value(p, "before");
  if (!before.empty()) {
    f.valid &= before.size() <= 18 && before.find_first_not_of("0123456789") == std::string::npos;
    if (f.valid) f.query.before_id = std::stoll(before);
  }
  return f;
}

// The filters set, for the audit log: "status=success, from=2026-12-01".
std::string filter_text(const Filters& f) {
  std::string out;
  for (const auto& [k, val] : f.shown) {
    if (!val.empty()) out.append(out.empty() ? "" : ", ").append(k).append("=").append(val);
  }
  return out;
}

// The filters' form as the list shows it: each filter with the value it was given, and whether
// they are valid (else the list is not shown).
web::Node filters_data(const Texts& t, const Params& query, const Filters& f) {
  web::Node statuses = web::Node::list();
  for (const auto& [value, name] : {std::pair<std::string_view, std::string_view>{"", t.any},
                                    {"processing", t.processing},
                                    {"success", t.success},
                                    {"declined", t.declined}}) {
    statuses.push({{"value", value},
                   {"name", name},
                   {"selected", web::form_value(query, "status") == value}});
  }
  web::Node inputs = web::Node::list();
  for (const auto& [name, label, type, inputmode] :
       {std::tuple<const char*, std::string_view, const char*, const char*>{"from", t.from, "date",
                                                                            ""},
        {"to", t.to, "date", ""},
        {"min", t.amount_min, "text", "decimal"},
        {"max", t.amount_max, "text", "decimal"},
        {"id", t.partner_id, "text", "text"}}) {
    inputs.push({{"name", name},
                 {"label", label},
                 {"type", type},
                 {"value", web::form_value(query, name)},
                 {"inputmode", inputmode}});
  }
  return {{"statuses", std::move(statuses)},
          {"inputs", std::move(inputs)},
          {"filter_query", query_of(f.shown)},
          {"valid", f.valid}};
}

// By partner id, the descriptions the orders of the card payouts among `page` (at most
// store::kRecordKeysMax, all of `tenant`) keep: the partner's, or the one a hosted page was given.
// Wallet payouts and orders without one have none. One read for the page.
store::Read<std::map<std::string, std::string>> descriptions_of(
    const store::Store& store, std::string_view tenant,
    const std::vector<store::PayoutRecord>& page) {
  std::vector<std::string> ids;
  for (const store::PayoutRecord& p : page) {
    if (p.kind == PayoutKind::kCardPayout) ids.push_back(p.partner_id);
  }
  if (ids.empty()) return std::map<std::string, std::string>();
  const auto records = store.records_with_keys(tenant, engine::kOrderRecord, ids);
  if (!records.ok()) return Failure{records.error()};
  std::map<std::string, std::string> descriptions;
  for (const auto& [partner_id, record] : *records) {
    const auto order = engine::order_from_json(record);
    if (order && !order->description.empty()) descriptions.emplace(partner_id, order->description);
  }
  return descriptions;
}

// The description of `p` among `descriptions` (descriptions_of), or empty.
std::string_view description_in(const std::map<std::string, std::string>& descriptions,
                                const store::PayoutRecord& p) {
  const auto found = descriptions.find(p.partner_id);
  return found == descriptions.end() ? std::string_view() : std::string_view(found->second);
}

// A payout of the list: its link goes to its page.
web::Node payout_row(const Texts& t, const store::PayoutRecord& p, std::string_view description) {
  return {{"id", p.partner_id},
          {"id_query", url_encode(p.partner_id)},
          {"status_key", status_key(p.status)},
          {"created", time_text(p.created_ms)},
          {"kind", p.kind == PayoutKind::kCardPayout ? t.card_payout : t.wallet_payout},
          {"kind_key", kind_key(p.kind)},
          {"amount", amount_text(p.amount, p.currency)},
          {"status", status_name(p.status, t)},
          {"decline_code", p.decline_code},
          {"description", description}};
}

// The messages sent about payout `payout_id` and every attempt to deliver each. Exactly this
// payout's: by its id, never by a prefix of event ids (an orderNumber may spell the start of
// another event's id).
store::Read<web::Node> notifications_data(const store::Store& store, std::int64_t payout_id) {
  static constexpr std::array<std::string_view, 3> kStates{"PENDING", "DELIVERED", "ABANDONED"};
  const auto messages = store.payout_messages(payout_id, 100);
  if (!messages.ok()) return Failure{messages.error()};
  web::Node list = web::Node::list();
  for (const store::OutboxMessage& m : *messages) {
    const auto of_message = store.outbox_attempts(m.id);
    if (!of_message.ok()) return Failure{of_message.error()};
    web::Node attempts = web::Node::list();
    for (const store::OutboxAttempt& a : *of_message) {
      attempts.push({{"number", a.attempt},
                     {"at", time_text(a.at_ms)},
                     {"result", a.http_status ? "HTTP " + std::to_string(a.http_status) : a.error},
                     {"duration_ms", a.duration_ms}});
    }
    // Callbacks are the merchant's own (signed, masked); a message to a person carries a code,
    // and its body is never shown (nor kept once sent).
    const bool show_body = !store::body_is_secret(m);
    list.push({{"event", m.event_id},
               {"target", masked_target(m.target)},
               {"state", kStates[static_cast<std::size_t>(m.state)]},
               {"attempts", std::move(attempts)},
               {"show_body", show_body},
               {"body", show_body ? m.body : std::string()}});
  }
  return web::Node{{"has_messages", !messages->empty()}, {"messages", std::move(list)}};
}

// The CSV export's rows (under kCsvHeader) of the payouts `query` selects, newest first and at
// most kCsvRowsMax, appended to `out`; how many.
store::Read<std::size_t> csv_rows(const store::Store& store, store::PayoutQuery query,
                                  std::string& out) {
  query.limit = store::kRecordKeysMax;  // a page's descriptions are one read
  std::size_t rows = 0;
  while (rows < kCsvRowsMax) {
    const auto read = store.payouts_page(query);
    if (!read.ok()) return Failure{read.error()};
    const std::vector<store::PayoutRecord>& page = *read;
    const auto descriptions = descriptions_of(store, query.tenant, page);
    if (!descriptions.ok()) return Failure{descriptions.error()};
    for (const store::PayoutRecord& p : page) {
      std::string amount;
      append_decimal(amount, p.amount, p.currency.exponent());
      for (const std::string& field :
           {std::to_string(p.id), time_text(p.created_ms), time_text(p.updated_ms),
            std::string(kind_key(p.kind)), p.partner_id, amount, std::string(p.currency.code()),
            std::string(status_key(p.status)), p.decline_code,
            std::string(description_in(*descriptions, p))}) {
        web::csv_field(out, field);
        out.push_back(',');
      }
      out.back() = '\r';
      out.push_back('\n');
    }
    rows += page.size();
    if (page.size() < query.limit) break;
    query.before_id = page.back().id;
  }
  return rows;
}

}  // namespace

void Pages::payouts(View& v, const http::Request& request, bool csv) {
  const Texts& t = *v.t;
  const Params query = web::parse_form(request.query()).value_or(Params{});
  Filters f = filters_of(v.session->tenant.key(), query);
  if (csv) {
    std::string out(kCsvHeader);
    const auto rows = f.valid ? csv_rows(store_, f.query, out) : store::Read<std::size_t>(0);
    if (!rows.ok()) return answer_unavailable(v);
    http::Response r;
    r.status = f.valid ? 200 : 400;
    r.content_type = "text/csv; charset=utf-8";
    r.body = std::move(out);
    r.headers = {{"Content-Disposition", "attachment; filename=\"payouts.csv\""},
                 {"Cache-Control", "no-store"},
                 {"X-Content-Type-Options", "nosniff"}};
    if (!f.valid) return v.send(std::move(r));
    // An export is recorded before it is handed out.
    auto shared = std::make_shared<View>(std::move(v));
    auto response = std::make_shared<http::Response>(std::move(r));
    const std::string detail =
        std::to_string(*rows) + " rows" + (filter_text(f).empty() ? "" : ", " + filter_text(f));
    return auth_.audit(*shared->session, "payouts.export", detail, request.peer_address,
                       [shared, response](bool ok) {
                         if (!ok) return shared->html(503, plain(*shared->t, shared->t->busy, {}));
                         shared->send(std::move(*response));
                       });
  }
  web::Node data = filters_data(t, query, f);
  data.set("t", words(t));
  if (!f.valid)
    return v.html(400,
                  layout(v, "/cabinet/payouts", t.payouts, web::render("cabinet/payouts", data)));
  f.query.limit = kPageSize + 1;
  auto read = store_.payouts_page(f.query);
  if (!read.ok()) return answer_unavailable(v);
  std::vector<store::PayoutRecord>& page = *read;
  const bool more = page.size() > kPageSize;
  if (more) page.pop_back();
  web::Node rows = web::Node::list();
  const auto descriptions = descriptions_of(store_, f.query.tenant, page);
  if (!descriptions.ok()) return answer_unavailable(v);
  for (const store::PayoutRecord& p : page) {
    rows.push(payout_row(t, p, description_in(*descriptions, p)));
  }
  std::string older_query;
  if (more) {
    Params next = f.shown;
    next.emplace_back("before", std::to_string(page.back().id));
    older_query = query_of(next);
  }
  data.set("payouts", std::move(rows))
      .set("newest", f.query.before_id != 0)
      .set("older_query", older_query);
  v.html(200, layout(v, "/cabinet/payouts", t.payouts, web::render("cabinet/payouts", data)));
}

void Pages::payout(View& v, const http::Request& request) {
  const Texts& t = *v.t;
  const Params query = web::parse_form(request.query()).value_or(Params{});
  const std::string kind = web::form_value(query, "kind"), id = web::form_value(query, "id");
  const Tenant& tenant = v.session->tenant;
  // Only the session's tenant: a payout is found by (tenant, kind, partner id).
  std::optional<store::PayoutRecord> p;
  if ((kind == "card" || kind == "wallet") && !id.empty() && id.size() <= 255) {
    auto read = store_.get_payout(
        tenant.key(), kind == "card" ? PayoutKind::kCardPayout : PayoutKind::kWalletPayout, id);
    if (!read.ok()) return answer_unavailable(v);
    p = std::move(*read);
  }
  if (!p) return v.html(404, layout(v, "/cabinet/payouts", t.not_found));
  log::annotate(tenant.provider, tenant.id, id);
  web::Node rows = web::Node::list();
  auto row = [&](std::string_view name, std::string_view value, std::string_view key = {}) {
    if (!value.empty()) rows.push({{"name", name}, {"value", value}, {"key", key}});
  };
  row(t.kind, p->kind == PayoutKind::kCardPayout ? t.card_payout : t.wallet_payout);
  row(t.amount, amount_text(p->amount, p->currency), "amount");
  row(t.status, status_name(p->status, t), "status");
  row(t.decline_code, p->decline_code, "decline-code");
  std::vector<std::pair<std::int64_t, std::string>> timeline{{p->created_ms, std::string(t.made)}};
  if (p->kind == PayoutKind::kCardPayout) {
    const engine::CardPayoutResult r = cards_.get(tenant, p->partner_id);
    if (r.error == engine::OrderError::kUnavailable) return answer_unavailable(v);
    const engine::CardOrder& o = r.order;
    row(t.card, o.masked_pan, "masked-pan");
    row(t.scheme, o.scheme.empty() ? "" : o.scheme + ", " + o.country);
    row(t.cardholder, o.cardholder);
    row(t.description, o.description, "description");
    row(t.rail, o.rail, "rail");
    row(t.rails_left, rails_left(o), "rails-left");
    row(t.rail_reference, o.order_id, "rail-reference");
    row(t.approval, o.approval, "approval");
    row(t.network_answer, o.rail_code.empty() ? "" : o.rail_code + " " + o.rail_text);
    row(t.knp, o.knp, "knp");
    row(t.parties, o.parties);
    if (o.operation_ms) timeline.emplace_back(o.operation_ms, std::string(t.decided));
  } else {
    row(t.source, p->source_ref);
    row(t.destination, p->destination_ref);
  }
  if (p->updated_ms > p->created_ms) {
    timeline.emplace_back(p->updated_ms,
                          std::string(t.updated) + ": " + std::string(status_name(p->status, t)));
  }
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  web::Node steps = web::Node::list();
  for (const auto& [at, what] : timeline) steps.push({{"at", time_text(at)}, {"what", what}});
  auto notifications = notifications_data(store_, p->id);
  if (!notifications.ok()) return answer_unavailable(v);
  web::Node& data = *notifications;
  data.set("t", words(t)).set("rows", std::move(rows)).set("timeline", std::move(steps));
  v.html(200, layout(v, "/cabinet/payouts", p->partner_id, web::render("cabinet/payout", data)));
}

}  // namespace payoutd::cabinet
