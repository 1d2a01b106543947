// The console's reports (docs/console.md, "Card payouts"): GET reports/card-payouts of the admin
// API for a day, grouped by the card network's answer, with its CSV.
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kGroups[] = {"approved", "declined", "awaiting"};

web::Node payout_rows(const json::Value& payouts) {
  web::Node rows = web::Node::list();
  if (!payouts.is_array()) return rows;
  for (const json::Value& p : payouts.as_array()) {
    rows.push(
        {{"tenant", text_of(p, "tenant")},
         {"payout_id", text_of(p, "payoutId")},
         {"partner_id", text_of(p, "partnerId")},
         {"card", text_of(p, "card")},
         {"amount", text_of(p, "amount")},
         {"rail", text_of(p, "rail")},
         {"answer", text_of(p, "approvalCode") + text_of(p, "railCode") + text_of(p, "railState")},
         {"created", text_of(p, "created")},
         {"answered", text_of(p, "answered")}});
  }
  return rows;
}

web::Node groups_of(const json::Value& report) {
  web::Node groups = web::Node::list();
  const json::Value* all = report.find("groups");
  for (const std::string_view name : kGroups) {
    const json::Value* g = all && all->is_object() ? all->find(name) : nullptr;
    if (!g || !g->is_object()) continue;
    web::Node totals = web::Node::list();
    if (const json::Value* t = g->find("totals"); t && t->is_array()) {
      for (const json::Value& total : t->as_array()) {
        totals.push({{"count", text_of(total, "count")}, {"amount", text_of(total, "amount")}});
      }
    }
    const json::Value* payouts = g->find("payouts");
    web::Node rows = payouts ? payout_rows(*payouts) : web::Node::list();
    const bool any = !rows.items().empty();
    groups.push({{"name", name},
                 {"any", any},
                 {"payouts", std::move(rows)},
                 {"totals", std::move(totals)}});
  }
  return groups;
}

void card_payouts(const Context& c) {
  if (c.post() || !c.rest().empty()) return c.message(404, "No such page", "No such page");
  const std::string date = c.query("date");
  if (date.empty()) {
    return c.render(200, "Card payouts", "console/card_payouts",
                    {{"date", ""},
                     {"shown", false},
                     {"groups", web::Node::list()},
                     {"csv", ""},
                     {"next", ""},
                     {"error", ""}});
  }
  std::string target = "reports/card-payouts?date=" + cabinet::url_encode(date);
  const std::string cursor = c.query("cursor");
  if (!cursor.empty()) target += "&cursor=" + cabinet::url_encode(cursor);
  if (c.query("format") == "csv") {
    return c.admin("GET", target + "&format=csv", {}, [c](const AdminAnswer& a) {
      if (!a.ok()) return c.failed(a);
      c.send(a.response);
    });
  }
  c.admin("GET", target, {}, [c, date](const AdminAnswer& a) {
    const bool refused = a.status() == 400;
    if (!a.ok() && !refused) return c.failed(a);
    const std::string next = text_of(a.json, "nextCursor");
    c.render(
        refused ? 400 : 200, "Card payouts", "console/card_payouts",
        {{"date", date},
         {"shown", !refused},
         {"groups", refused ? web::Node::list() : groups_of(a.json)},
         {"csv", "/console/reports/card-payouts?format=csv&date=" + cabinet::url_encode(date)},
         {"next", next.empty() ? std::string()
                               : "/console/reports/card-payouts?date=" + cabinet::url_encode(date) +
                                     "&cursor=" + cabinet::url_encode(next)},
         {"error", refused ? a.error_text() : std::string()}});
  });
}

}  // namespace

void add_report_pages(Pages& pages) {
  pages.add_page({.prefix = "/console/reports/card-payouts",
                  .label = "Card payouts",
                  .needs = admin::Role::kViewer,
                  .serve = &card_payouts});
}

}  // namespace payoutd::console
