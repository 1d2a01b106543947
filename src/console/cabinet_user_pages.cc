// The console's cabinet users (docs/console.md, "Cabinet users"): a partner's logins to its
// cabinet, through the admin API's cabinet-users routes (console/cabinet_users_api.h). Every
// member reads them; creating, changing roles, disabling and resetting need support: the admin
// API decides, the page only leaves out the forms a member's roles would not let through.
//
// /console/cabinet-users                             GET  the partners, to choose one (?tenant=
//                                                         opens one by its key)
// /console/cabinet-users/{key}                       GET  its users; POST creates one: its
//                                                         password shown this once
// /console/cabinet-users/{key}/{login}/{action}      POST roles, disable, enable, reset-password
//                                                         (a new password, shown once)
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kBase = "/console/cabinet-users";

std::string tenant_link(std::string_view key) {
  return std::string(kBase) + "/" + path_segment(key);
}

std::string users_target(std::string_view key) {
  return "tenants/" + path_segment(key) + "/cabinet-users";
}

// The roles a form's checkboxes name, as the admin API's body member: viewing always.
std::string roles_json(const Context& c) {
  std::string out;
  json::Writer w(out);
  w.begin_array().string("viewer");
  for (const auto& [name, value] : c.form_params()) {
    if (name == "role" && (value == "cards" || value == "settings")) w.string(value);
  }
  w.end_array();
  return out;
}

bool has_role(const json::Value& user, std::string_view role) {
  const json::Value* roles = user.find("roles");
  if (!roles || !roles->is_array()) return false;
  for (const json::Value& r : roles->as_array()) {
    if (r.is_string() && r.as_string() == role) return true;
  }
  return false;
}

void partners(const Context& c) {
  if (const std::string key = c.query("tenant"); !key.empty()) {
    return c.redirect(tenant_link(key));
  }
  c.admin("GET", "tenants?limit=500", {}, [c](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    web::Node rows = web::Node::list();
    if (const json::Value* list = a.json.find("tenants"); list && list->is_array()) {
      for (const json::Value& t : list->as_array()) {
        const std::string key = text_of(t, "tenant");
        rows.push({{"key", key}, {"link", tenant_link(key)}, {"status", text_of(t, "status")}});
      }
    }
    c.render(200, "Cabinet users", "console/cabinet_user_partners", {{"rows", std::move(rows)}});
  });
}

web::Node user_row(const Context& c, const std::string& key, const json::Value& u) {
  const std::string login = text_of(u, "login");
  const bool disabled = text_of(u, "disabled") == "true";
  const bool runtime = text_of(u, "source") == "runtime";
  std::string roles;
  if (const json::Value* list = u.find("roles"); list && list->is_array()) {
    for (const json::Value& r : list->as_array()) {
      if (r.is_string()) roles.append(roles.empty() ? "" : ", ").append(r.as_string());
    }
  }
  return {{"login", login},
          {"base", tenant_link(key) + "/" + path_segment(login)},
          {"source", text_of(u, "source")},
          {"roles", roles},
          {"state", disabled ? "disabled" : "enabled"},
          {"must_change", text_of(u, "mustChangePassword") == "true"},
          {"created", text_of(u, "created")},
          {"updated", text_of(u, "updated")},
          {"revision", text_of(u, "revision")},
          {"cards", has_role(u, "cards")},
          {"settings", has_role(u, "settings")},
          {"disabled", disabled},
          {"manage", runtime && c.member().roles.has(admin::Role::kSupport)}};
}

// The partner's users, with `error` from a form that was refused (and what it sent).
void users(const Context& c, const std::string& key, int status, const std::string& error,
           const std::string& typed_login) {
  c.admin("GET", users_target(key), {}, [c, key, status, error, typed_login](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    web::Node rows = web::Node::list();
    if (const json::Value* list = a.json.find("users"); list && list->is_array()) {
      for (const json::Value& u : list->as_array()) rows.push(user_row(c, key, u));
    }
    const bool any = !rows.items().empty();
    c.render(status, "Cabinet users of " + key, "console/cabinet_users",
             {{"key", key},
              {"link", tenant_link(key)},
              {"partner", "/console/partners/" + path_segment(key)},
              {"error", error},
              {"login", typed_login},
              {"any", any},
              {"users", std::move(rows)},
              {"support", c.member().roles.has(admin::Role::kSupport)}});
  });
}

// The one page that shows a generated password.
void password_page(const Context& c, int status, const std::string& key, const AdminAnswer& a) {
  const json::Value* user = a.json.find("user");
  c.render(status, status == 201 ? "Cabinet user created" : "New password",
           "console/cabinet_user_password",
           {{"login", user ? text_of(*user, "login") : std::string()},
            {"password", text_of(a.json, "initialPassword")},
            {"link", tenant_link(key)}});
}

void create(const Context& c, const std::string& key) {
  const std::string login = c.form("login");
  std::string body;
  json::Writer w(body);
  w.begin_object().key("login").string(login).key("roles").raw(roles_json(c)).end_object();
  c.admin("POST", users_target(key), std::move(body), [c, key, login](const AdminAnswer& a) {
    if (a.ok()) return password_page(c, 201, key, a);
    if (a.status() == 400 || a.status() == 409)
      return users(c, key, a.status(), a.error_text(), login);
    c.failed(a);
  });
}

// A new password. The form carries the user's revision as the page showed it: loading the answer
// again (which sends the form again) finds a newer one and resets nothing a second time.
void reset(const Context& c, const std::string& key, const std::string& target) {
  const std::string seen = c.form("revision");
  c.admin("GET", target, {}, [c, key, target, seen](const AdminAnswer& u) {
    if (!u.ok()) return c.failed(u);
    if (text_of(u.json, "revision") != seen) {
      return c.message(409, "Not done",
                       "The user changed since the page was shown (its password may have been "
                       "reset already): open the partner's users again");
    }
    c.admin("POST", target + "/reset-password", {}, [c, key](const AdminAnswer& a) {
      if (!a.ok()) return c.failed(a);
      password_page(c, 200, key, a);
    });
  });
}

void act(const Context& c, const std::string& key, const std::string& login,
         const std::string& action) {
  const std::string target = users_target(key) + "/" + path_segment(login);
  if (action == "reset-password") return reset(c, key, target);
  auto back = [c, key](const AdminAnswer& a) {
    if (!a.ok()) return c.failed(a);
    c.redirect(tenant_link(key));
  };
  if (action == "roles") {
    return c.admin("PATCH", target, R"({"roles":)" + roles_json(c) + "}", back);
  }
  c.admin("POST", target + "/" + action, {}, back);
}

void serve(const Context& c) {
  const auto rest = c.rest();
  if (rest.empty())
    return c.post() ? c.message(405, "Not done", "Method not allowed") : partners(c);
  const std::string& key = rest[0];
  if (rest.size() == 1) return c.post() ? create(c, key) : users(c, key, 200, {}, {});
  static constexpr std::string_view kActions[] = {"roles", "disable", "enable", "reset-password"};
  for (const std::string_view action : kActions) {
    if (rest.size() == 3 && rest[2] == action && c.post()) return act(c, key, rest[1], rest[2]);
  }
  c.message(404, "No such page", "No such page");
}

}  // namespace

void add_cabinet_user_pages(Pages& pages) {
  pages.add_page({.prefix = std::string(kBase),
                  .label = "Cabinet users",
                  .needs = admin::Role::kViewer,
                  .serve = &serve});
}

}  // namespace payoutd::console
