// The console's funding accounts (docs/console.md, "Funding accounts"): a tenant's funders with
// their balances, credits and debits (the admin API's, under maker-checker: above the threshold
// the answer is a pending request), and a funder's daily statement with its CSV.
//
// /console/funding                                   GET  the partners, to choose one
// /console/funding/{key}                             GET  its funders, with credit and debit forms
// /console/funding/{key}/{funder}/credit|debit       POST the move (finance)
// /console/funding/{key}/{funder}/statement          GET  ?date=YYYY-MM-DD[&format=csv][&cursor=]
#include "cabinet/view.h"
#include "console/page_list.h"
#include "core/ids.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kBase = "/console/funding";

std::string tenant_link(std::string_view key) {
  return std::string(kBase) + "/" + path_segment(key);
}

std::string funder_target(std::string_view key, std::string_view funder) {
  return "tenants/" + path_segment(key) + "/funders/" + path_segment(funder);
}

void tenants(const Context& c) {
  c.admin("GET", "tenants?limit=500", {}, [c](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    web::Node rows = web::Node::list();
    if (const json::Value* list = a.json.find("tenants"); list && list->is_array()) {
      for (const json::Value& t : list->as_array()) {
        const std::string key = text_of(t, "tenant");
        rows.push({{"key", key}, {"link", tenant_link(key)}, {"status", text_of(t, "status")}});
      }
    }
    c.render(200, "Funding accounts", "console/funding_tenants", {{"rows", std::move(rows)}});
  });
}

// Each funder with its balances and, for finance, credit and debit forms. Each form carries an id
// made for it, the move's idempotency id: sending the same form twice moves the money once.
void funders(const Context& c, const std::string& key) {
  c.admin("GET", "tenants/" + path_segment(key) + "/funders", {}, [c, key](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    const bool finance = c.member().roles.has(admin::Role::kFinance);
    web::Node rows = web::Node::list();
    if (const json::Value* list = a.json.find("funders"); list && list->is_array()) {
      for (const json::Value& f : list->as_array()) {
        const std::string code = text_of(f, "funderId");
        const std::string base = tenant_link(key) + "/" + path_segment(code);
        rows.push({{"code", code},
                   {"name", text_of(f, "displayName")},
                   {"currency", text_of(f, "currency")},
                   {"balance", text_of(f, "balance")},
                   {"reserved", text_of(f, "reserved")},
                   {"available", text_of(f, "available")},
                   {"base", base},
                   {"credit_id", "console-" + random_url_token(16)},
                   {"debit_id", "console-" + random_url_token(16)}});
      }
    }
    c.render(200, "Funding accounts of " + key, "console/funders",
             {{"key", key},
              {"partner", "/console/partners/" + path_segment(key)},
              {"finance", finance},
              {"funders", std::move(rows)}});
  });
}

// A credit or a debit: done at once, or a request pending a second finance member's approval.
void move(const Context& c, const std::string& key, const std::string& funder,
          const std::string& direction) {
  const std::string id = c.form("move_id");
  const std::string value = c.form("amount");
  std::string body;
  json::Writer w(body);
  w.begin_object().key("amount").begin_object();
  w.key("value").string(value).key("currency").string(c.form("currency"));
  w.end_object().end_object();
  const std::string path = funder_target(key, funder) +
                           (direction == "credit" ? "/credits/" : "/debits/") + path_segment(id);
  c.admin("POST", path, std::move(body), [c, key, funder, direction](const AdminAnswer& a) {
    if (!a.ok() && a.status() != 400 && a.status() != 409 && a.status() != 422) return c.failed(a);
    const bool pending = a.status() == 202;
    const std::string request = pending ? text_of(a.json, "id") : std::string();
    c.render(a.ok() ? 200 : a.status(), direction == "credit" ? "Credit" : "Debit",
             "console/funding_move",
             {{"error", a.ok() ? std::string() : a.error_text()},
              {"done", a.ok() && !pending},
              {"pending", pending},
              {"direction", direction},
              {"key", key},
              {"funder", funder},
              {"amount", text_of(a.json, "amount")},
              {"request", request},
              {"request_link", "/console/requests/" + path_segment(request)},
              {"back", tenant_link(key)}});
  });
}

web::Node statement_lines(const json::Value& statement) {
  web::Node rows = web::Node::list();
  const json::Value* lines = statement.find("lines");
  if (!lines || !lines->is_array()) return rows;
  for (const json::Value& l : lines->as_array()) {
    rows.push({{"time", text_of(l, "time")},
               {"type", text_of(l, "type")},
               {"partner_id", text_of(l, "partnerId")},
               {"counter", text_of(l, "counterAccount")},
               {"amount", text_of(l, "amount")},
               {"balance", text_of(l, "balance")}});
  }
  return rows;
}

void statement(const Context& c, const std::string& key, const std::string& funder) {
  const std::string date = c.query("date");
  const std::string here = tenant_link(key) + "/" + path_segment(funder) + "/statement";
  web::Node data{{"key", key},
                 {"funder", funder},
                 {"here", here},
                 {"date", date},
                 {"back", tenant_link(key)},
                 {"shown", false},
                 {"error", ""},
                 {"csv", ""},
                 {"next", ""},
                 {"opening", ""},
                 {"closing", ""},
                 {"credits", ""},
                 {"debits", ""},
                 {"from", ""},
                 {"to", ""},
                 {"lines", web::Node::list()}};
  if (date.empty()) return c.render(200, "Statement of " + funder, "console/statement", data);
  std::string target = funder_target(key, funder) + "/statements/" + cabinet::url_encode(date);
  const std::string cursor = c.query("cursor");
  if (c.query("format") == "csv") {
    target += "?format=csv";
    if (!cursor.empty()) target += "&cursor=" + cabinet::url_encode(cursor);
    return c.admin("GET", target, {}, [c](const AdminAnswer& a) {
      if (!a.ok()) return c.failed(a);
      c.send(a.response);
    });
  }
  if (!cursor.empty()) target += "?cursor=" + cabinet::url_encode(cursor);
  c.admin("GET", target, {}, [c, funder, here, date, data](const AdminAnswer& a) mutable {
    if (!a.ok() && a.status() != 400) return c.failed(a);
    if (!a.ok()) {
      data.set("error", a.error_text());
      return c.render(400, "Statement of " + funder, "console/statement", data);
    }
    const std::string next = text_of(a.json, "nextCursor");
    const std::string day = "?date=" + cabinet::url_encode(date);
    data.set("shown", true)
        .set("csv", here + day + "&format=csv")
        .set("next",
             next.empty() ? std::string() : here + day + "&cursor=" + cabinet::url_encode(next))
        .set("opening", text_of(a.json, "opening"))
        .set("closing", text_of(a.json, "closing"))
        .set("credits", text_of(a.json, "credits"))
        .set("debits", text_of(a.json, "debits"))
        .set("from", text_of(a.json, "from"))
        .set("to", text_of(a.json, "to"))
        .set("lines", statement_lines(a.json));
    c.render(200, "Statement of " + funder, "console/statement", std::move(data));
  });
}

void serve(const Context& c) {
  const auto rest = c.rest();
  if (rest.empty() && !c.post()) return tenants(c);
  if (rest.size() == 1 && !c.post()) return funders(c, rest[0]);
  if (rest.size() == 3 && c.post() && (rest[2] == "credit" || rest[2] == "debit")) {
    return move(c, rest[0], rest[1], rest[2]);
  }
  if (rest.size() == 3 && !c.post() && rest[2] == "statement") {
    return statement(c, rest[0], rest[1]);
  }
  c.message(404, "No such page", "No such page");
}

}  // namespace

void add_funding_pages(Pages& pages) {
  pages.add_page({.prefix = std::string(kBase),
                  .label = "Funding accounts",
                  .needs = admin::Role::kViewer,
                  .serve = &serve});
}

}  // namespace payoutd::console
