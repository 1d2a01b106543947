// The console's payouts across partners (docs/console.md, "Payouts, attention and redelivery"):
// the search of every provider's payouts (GET payouts of the admin API), a payout's timeline (GET
// payouts/{id}), what needs attention (GET attention) with a Redeliver button for support (POST
// outbox/{message}/redeliver). The admin API decides everything; these pages show its answers.
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

// The search form's fields, in the admin API's names, each with its label and input type.
struct SearchField {
  std::string_view name, label, type;
};
constexpr SearchField kSearchFields[] = {
    {"id", "Partner's or payout's id", "text"},
    {"card", "Card (first 6, last 4)", "text"},
    {"tenant", "Tenant", "text"},
    {"status", "Status", "text"},
    {"from", "From", "date"},
    {"to", "To", "date"},
    {"min", "Amount from", "text"},
    {"max", "Amount to", "text"},
    {"currency", "Currency", "text"},
};

web::Node summary_row(const json::Value& p) {
  return {{"id", text_of(p, "id")},
          {"tenant", text_of(p, "tenant")},
          {"partner_id", text_of(p, "partnerId")},
          {"type", text_of(p, "type")},
          {"status", text_of(p, "status")},
          {"decline_code", text_of(p, "declineCode")},
          {"amount", text_of(p, "amount")},
          {"card", text_of(p, "card")},
          {"created", text_of(p, "createdAt")}};
}

web::Node rows_of(const json::Value* list, web::Node (*row)(const json::Value&)) {
  web::Node rows = web::Node::list();
  if (!list || !list->is_array()) return rows;
  for (const json::Value& item : list->as_array()) rows.push(row(item));
  return rows;
}

// The search's query for the admin API (and for the next page's link): the form's fields given.
std::string search_query(const Context& c) {
  std::string query;
  for (const SearchField& f : kSearchFields) {
    const std::string value = c.query(f.name);
    if (value.empty()) continue;
    query += (query.empty() ? "" : "&") + std::string(f.name) + "=" + cabinet::url_encode(value);
  }
  return query;
}

web::Node search_inputs(const Context& c) {
  web::Node inputs = web::Node::list();
  for (const SearchField& f : kSearchFields) {
    inputs.push(
        {{"name", f.name}, {"label", f.label}, {"type", f.type}, {"value", c.query(f.name)}});
  }
  return inputs;
}

void search(const Context& c) {
  const std::string query = search_query(c);
  if (query.empty()) {
    return c.render(200, "Payouts", "console/payouts",
                    {{"inputs", search_inputs(c)},
                     {"shown", false},
                     {"any", false},
                     {"payouts", web::Node::list()},
                     {"next", ""},
                     {"error", ""}});
  }
  const std::string cursor = c.query("cursor");
  const std::string target =
      "payouts?" + query + (cursor.empty() ? "" : "&cursor=" + cabinet::url_encode(cursor));
  c.admin("GET", target, {}, [c, query](const AdminAnswer& a) {
    const bool refused = a.status() == 400;
    if (!a.ok() && !refused) return c.failed(a);
    const std::string next = text_of(a.json, "nextCursor");
    web::Node rows = refused ? web::Node::list() : rows_of(a.json.find("payouts"), summary_row);
    const bool any = !rows.items().empty();
    c.render(refused ? 400 : 200, "Payouts", "console/payouts",
             {{"inputs", search_inputs(c)},
              {"shown", !refused},
              {"any", any},
              {"payouts", std::move(rows)},
              {"next", next.empty()
                           ? std::string()
                           : "/console/payouts?" + query + "&cursor=" + cabinet::url_encode(next)},
              {"error", refused ? a.error_text() : std::string()}});
  });
}

web::Node event_row(const json::Value& e) {
  std::string facts;
  for (const std::string_view key : {"rail", "result", "code", "text", "approval", "railState",
                                     "declineCode", "eventId", "attempt", "httpStatus", "error"}) {
    const std::string value = text_of(e, key);
    if (value.empty() || value == "0") continue;
    facts += (facts.empty() ? "" : ", ") + std::string(key) + " " + value;
  }
  return {{"at", text_of(e, "at")}, {"event", text_of(e, "event")}, {"facts", facts}};
}

web::Node message_row(const json::Value& m) {
  return {{"id", text_of(m, "id")},
          {"event_id", text_of(m, "eventId")},
          {"target", text_of(m, "target")},
          {"state", text_of(m, "state")},
          {"attempts", text_of(m, "attempts")},
          {"last_result", text_of(m, "lastResult")}};
}

void timeline(const Context& c) {
  c.admin("GET", "payouts/" + cabinet::url_encode(c.rest()[0]), {}, [c](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    const json::Value* payout = a.json.find("payout");
    if (!payout) return c.failed(a);
    c.render(200, "Payout " + text_of(*payout, "id"), "console/payout",
             {{"payout", summary_row(*payout)},
              {"events", rows_of(a.json.find("events"), event_row)},
              {"messages", rows_of(a.json.find("messages"), message_row)}});
  });
}

void serve_payouts(const Context& c) {
  if (c.post() || c.rest().size() > 1) return c.message(404, "No such page", "No such page");
  if (c.rest().size() == 1) return timeline(c);
  search(c);
}

web::Node failing_row(const json::Value& m) {
  return {{"id", text_of(m, "id")},
          {"tenant", text_of(m, "tenant")},
          {"event_id", text_of(m, "eventId")},
          {"payout_id", text_of(m, "payoutId") == "0" ? std::string() : text_of(m, "payoutId")},
          {"target", text_of(m, "target")},
          {"state", text_of(m, "state")},
          {"attempts", text_of(m, "attempts")},
          {"last_result", text_of(m, "lastResult")}};
}

web::Node queue_row(const json::Value& q) {
  return {{"tenant", text_of(q, "tenant")},
          {"lane", text_of(q, "lane")},
          {"pending", text_of(q, "pending")},
          {"failing", text_of(q, "failing")}};
}

void attention_page(const Context& c, std::string notice) {
  c.admin("GET", "attention", {}, [c, notice](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    web::Node awaiting = rows_of(a.json.find("awaitingReconciliation"), summary_row);
    web::Node failing = rows_of(a.json.find("failingCallbacks"), failing_row);
    web::Node backlog = rows_of(a.json.find("outboxBacklog"), queue_row);
    const bool any_awaiting = !awaiting.items().empty();
    const bool any_failing = !failing.items().empty();
    const bool any_backlog = !backlog.items().empty();
    c.render(200, "Attention", "console/attention",
             {{"age_s", text_of(a.json, "ageS")},
              {"notice", notice},
              {"may_redeliver", c.member().roles.has(admin::Role::kSupport)},
              {"any_awaiting", any_awaiting},
              {"awaiting", std::move(awaiting)},
              {"any_failing", any_failing},
              {"failing", std::move(failing)},
              {"any_backlog", any_backlog},
              {"backlog", std::move(backlog)}});
  });
}

// POST /console/attention/redeliver/{message}: the admin API redelivers (support), then back to
// the page, which says so.
void redeliver(const Context& c, const std::string& message) {
  c.admin("POST", "outbox/" + cabinet::url_encode(message) + "/redeliver", {},
          [c, message](const AdminAnswer& a) {
            if (!a.ok()) return c.failed(a);
            c.redirect("/console/attention?redelivered=" + cabinet::url_encode(message));
          });
}

void serve_attention(const Context& c) {
  const auto rest = c.rest();
  if (c.post() && rest.size() == 2 && rest[0] == "redeliver") return redeliver(c, rest[1]);
  if (c.post() || !rest.empty()) return c.message(404, "No such page", "No such page");
  const std::string redelivered = c.query("redelivered");
  attention_page(c, redelivered.empty() ? std::string()
                                        : "Message " + redelivered + " is being delivered again.");
}

}  // namespace

void add_payout_pages(Pages& pages) {
  pages.add_page({.prefix = "/console/payouts",
                  .label = "Payouts",
                  .needs = admin::Role::kViewer,
                  .serve = &serve_payouts});
  pages.add_page({.prefix = "/console/attention",
                  .label = "Attention",
                  .needs = admin::Role::kViewer,
                  .serve = &serve_attention});
}

}  // namespace payoutd::console
