// The console's maker-checker requests (docs/console.md, "Requests"): the admin API's requests,
// listed by status, shown, approved or rejected by a finance member other than the requester
// (the admin API refuses the requester: 403 request.own; the page says so before they try).
//
// /console/requests                       GET  ?status=pending|approved|rejected|expired&before=
// /console/requests/{id}                  GET  the request, with the decision's buttons
// /console/requests/{id}/approve|reject   POST the decision (finance)
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kBase = "/console/requests";
constexpr std::string_view kStatuses[] = {"pending", "approved", "rejected", "expired"};

std::string request_link(std::string_view id) {
  return std::string(kBase) + "/" + path_segment(id);
}

std::string when(const json::Value& request, std::string_view key) {
  const json::Value* v = request.find(key);
  const std::optional<std::int64_t> ms = v ? v->as_int64() : std::nullopt;
  return ms && *ms > 0 ? cabinet::time_text(*ms) : std::string();
}

void list(const Context& c) {
  std::string status = c.query("status");
  if (status.empty()) status = "pending";
  std::string target = "requests?status=" + cabinet::url_encode(status);
  if (const std::string before = c.query("before"); !before.empty()) {
    target += "&before=" + cabinet::url_encode(before);
  }
  c.admin("GET", target, {}, [c, status](const AdminAnswer& a) {
    if (!a.ok() && a.status() != 400) return c.failed(a);
    web::Node rows = web::Node::list();
    if (const json::Value* list = a.ok() ? a.json.find("requests") : nullptr;
        list && list->is_array()) {
      for (const json::Value& r : list->as_array()) {
        const std::string id = text_of(r, "id");
        rows.push({{"id", id},
                   {"link", request_link(id)},
                   {"kind", text_of(r, "kind")},
                   {"status", text_of(r, "status")},
                   {"tenant", text_of(r, "tenant")},
                   {"amount", text_of(r, "amount")},
                   {"requested_by", text_of(r, "requestedBy")},
                   {"created", when(r, "createdMs")}});
      }
    }
    web::Node tabs = web::Node::list();
    for (const std::string_view s : kStatuses) {
      tabs.push({{"value", s},
                 {"link", std::string(kBase) + "?status=" + std::string(s)},
                 {"current", s == status}});
    }
    const std::string next = text_of(a.json, "nextBefore");
    const bool any = !rows.items().empty();
    c.render(
        a.ok() ? 200 : 400, "Requests", "console/requests",
        {{"error", a.ok() ? std::string() : a.error_text()},
         {"tabs", std::move(tabs)},
         {"status", status},
         {"any", any},
         {"rows", std::move(rows)},
         {"next", next.empty() ? std::string()
                               : std::string(kBase) + "?status=" + cabinet::url_encode(status) +
                                     "&before=" + cabinet::url_encode(next)}});
  });
}

// Every member of the request, in the API's order (kinds added later carry fields of their own).
web::Node fields_of(const json::Value& request) {
  web::Node rows = web::Node::list();
  if (!request.is_object()) return rows;
  for (const json::Value::Member& member : request.as_object()) {
    const std::string& name = member.first;
    const bool time = name.ends_with("Ms");
    rows.push({{"name", name}, {"value", time ? when(request, name) : text_of(request, name)}});
  }
  return rows;
}

void show(const Context& c, const std::string& id, std::string_view error, int status) {
  const std::string error_text(error);
  c.admin("GET", "requests/" + path_segment(id), {},
          [c, id, error_text, status](const AdminAnswer& a) {
            if (!a.ok()) return c.failed(a);
            const bool pending = text_of(a.json, "status") == "pending";
            const bool own = text_of(a.json, "requestedBy") == c.member().login;
            const bool finance = c.member().roles.has(admin::Role::kFinance);
            c.render(status, "Request " + id, "console/request",
                     {{"error", error_text},
                      {"id", id},
                      {"link", request_link(id)},
                      {"status", text_of(a.json, "status")},
                      {"fields", fields_of(a.json)},
                      {"can_decide", pending && finance && !own},
                      {"own", pending && own},
                      {"not_finance", pending && !finance && !own}});
          });
}

void decide(const Context& c, const std::string& id, const std::string& decision) {
  c.admin("POST", "requests/" + path_segment(id) + "/" + decision, {},
          [c, id](const AdminAnswer& a) {
            if (a.ok()) return c.redirect(request_link(id));
            // Refused (the requester, decided already, expired, not affordable): the request as
            // it stands, with the reason.
            if (a.status() == 403 || a.status() == 409 || a.status() == 422) {
              return show(c, id, a.error_text(), a.status());
            }
            c.failed(a);
          });
}

void serve(const Context& c) {
  const auto rest = c.rest();
  if (rest.empty() && !c.post()) return list(c);
  if (rest.size() == 1 && !c.post()) return show(c, rest[0], {}, 200);
  if (rest.size() == 2 && c.post() && (rest[1] == "approve" || rest[1] == "reject")) {
    return decide(c, rest[0], rest[1]);
  }
  c.message(404, "No such page", "No such page");
}

}  // namespace

void add_request_pages(Pages& pages) {
  pages.add_page({.prefix = std::string(kBase),
                  .label = "Requests",
                  .needs = admin::Role::kViewer,
                  .serve = &serve});
}

}  // namespace payoutd::console
