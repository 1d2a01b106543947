// The console's view of the operators' audit log (docs/console.md, "Audit log"): GET audit of the
// admin API with its filters (actor, action, target, outcome, from, to), newest first, a page at a
// time.
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kBase = "/console/audit";
constexpr std::string_view kFilters[] = {"actor", "action", "target", "outcome", "from", "to"};

web::Node entry_rows(const json::Value& answer) {
  web::Node rows = web::Node::list();
  const json::Value* entries = answer.find("entries");
  if (!entries || !entries->is_array()) return rows;
  for (const json::Value& e : entries->as_array()) {
    const json::Value* detail = e.find("detail");
    const bool has_detail = detail && detail->is_object() && !detail->as_object().empty();
    rows.push({{"seq", text_of(e, "seq")},
               {"at", text_of(e, "at")},
               {"actor", text_of(e, "actor")},
               {"via", text_of(e, "via")},
               {"address", text_of(e, "address")},
               {"action", text_of(e, "action")},
               {"target", text_of(e, "target")},
               {"outcome", text_of(e, "outcome")},
               {"detail", has_detail ? json::to_string(*detail) : std::string()}});
  }
  return rows;
}

void serve(const Context& c) {
  if (c.post() || !c.rest().empty()) return c.message(404, "No such page", "No such page");
  std::string filters;  // the query of the filters given, for the API and the next page's link
  web::Node data;
  for (const std::string_view name : kFilters) {
    const std::string value = c.query(name);
    data.set(name, value);
    if (!value.empty()) filters += "&" + std::string(name) + "=" + cabinet::url_encode(value);
  }
  std::string target = "audit?limit=50" + filters;
  if (const std::string before = c.query("before"); !before.empty()) {
    target += "&before=" + cabinet::url_encode(before);
  }
  c.admin("GET", target, {}, [c, filters, data](const AdminAnswer& a) mutable {
    if (!a.ok() && a.status() != 400) return c.failed(a);
    web::Node rows = a.ok() ? entry_rows(a.json) : web::Node::list();
    const std::string next = text_of(a.json, "nextBefore");
    const bool any = !rows.items().empty();
    data.set("error", a.ok() ? std::string() : a.error_text())
        .set("any", any)
        .set("rows", std::move(rows))
        .set("next", next.empty()
                         ? std::string()
                         : std::string(kBase) + "?before=" + cabinet::url_encode(next) + filters);
    c.render(a.ok() ? 200 : 400, "Audit log", "console/audit", std::move(data));
  });
}

}  // namespace

void add_audit_pages(Pages& pages) {
  pages.add_page({.prefix = std::string(kBase),
                  .label = "Audit log",
                  .needs = admin::Role::kViewer,
                  .serve = &serve});
}

}  // namespace payoutd::console
