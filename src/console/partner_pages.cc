// The console's partners (docs/console.md, "Partners"): the admin API's tenants routes
// (admin/tenants_api.h) as pages. Listed and shown to every member; onboarding, settings, closing
// and rotating credentials need admin, suspending and resuming support: the admin API decides, the
// pages only leave out the buttons a member's roles would not let through.
//
// /console/partners                    GET  the list (?provider=&status=&after=)
// /console/partners/new                GET  the form (?provider= fills the provider's example),
//                                      POST onboards: the credentials issued, shown this once
// /console/partners/{key}              GET  the partner, its funding accounts and credentials
// /console/partners/{key}/edit         GET  its settings as JSON, POST changes them
// /console/partners/{key}/{action}     POST suspend, resume, close; rotate (new credentials, shown
//                                      once)
#include "cabinet/view.h"
#include "console/page_list.h"

namespace payoutd::console {
namespace {

constexpr std::string_view kBase = "/console/partners";

// The providers whose partners are onboarded here, with a settings document to start from
// (docs/admin.md, "QIWI settings", "Bereke settings", "ecommpay settings"). The admin API is the
// judge of both.
struct ProviderExample {
  std::string_view provider, label, settings;
};
constexpr ProviderExample kProviders[] = {
    {"qiwi", "QIWI product",
     R"({"funders":[{"id":"main-funder","displayName":"Main programme","currency":"RUB"}],)"
     R"("clients":[]})"},
    {"bereke", "Bereke partner",
     R"({"userName":"partner_payouts","funding":["transit","corporate_card"],)"
     R"("cardCountries":["KZ"],"knp":"710"})"},
    // Its id is its project_id (digits).
    {"ecommpay", "ecommpay project",
     R"({"currency":"EUR","callbackUrl":"https://merchant.example/payout-callbacks",)"
     R"("allowlist":["203.0.113.0/24"],"cardLimits":{"singleMax":{"value":"5000.00","currency":"EUR"}}})"},
};

std::string partner_path(std::string_view key) {
  return std::string(kBase) + "/" + path_segment(key);
}

web::Node provider_options(std::string_view chosen) {
  web::Node list = web::Node::list();
  for (const ProviderExample& p : kProviders) {
    list.push({{"value", p.provider}, {"label", p.label}, {"selected", p.provider == chosen}});
  }
  return list;
}

std::string example_of(std::string_view provider) {
  for (const ProviderExample& p : kProviders) {
    if (p.provider == provider) return std::string(p.settings);
  }
  return "{}";
}

web::Node tenant_row(const json::Value& t) {
  const std::string key = text_of(t, "tenant");
  return {{"key", key},
          {"link", partner_path(key)},
          {"provider", text_of(t, "provider")},
          {"id", text_of(t, "id")},
          {"status", text_of(t, "status")},
          {"source", text_of(t, "source")},
          {"updated", text_of(t, "updated")}};
}

void list(const Context& c) {
  const std::string provider = c.query("provider");
  const std::string status = c.query("status");
  std::string target = "tenants?limit=100";
  if (!provider.empty()) target += "&provider=" + cabinet::url_encode(provider);
  if (!status.empty()) target += "&status=" + cabinet::url_encode(status);
  if (const std::string after = c.query("after"); !after.empty()) {
    target += "&after=" + cabinet::url_encode(after);
  }
  c.admin("GET", target, {}, [c, provider, status](const AdminAnswer& a) {
    if (!a.ok() && a.status() != 400) return c.failed(a);
    web::Node rows = web::Node::list();
    const json::Value* tenants = a.ok() ? a.json.find("tenants") : nullptr;
    if (tenants && tenants->is_array()) {
      for (const json::Value& t : tenants->as_array()) rows.push(tenant_row(t));
    }
    const std::string next = text_of(a.json, "next");
    const std::string more = std::string(kBase) + "?provider=" + cabinet::url_encode(provider) +
                             "&status=" + cabinet::url_encode(status) +
                             "&after=" + cabinet::url_encode(next);
    web::Node statuses = web::Node::list();
    for (const std::string_view s : {"active", "suspended", "closed"}) {
      statuses.push({{"value", s}, {"selected", s == status}});
    }
    const bool any = !rows.items().empty();
    c.render(a.ok() ? 200 : 400, "Partners", "console/partners",
             {{"error", a.ok() ? std::string() : a.error_text()},
              {"providers", provider_options(provider)},
              {"statuses", std::move(statuses)},
              {"any", any},
              {"rows", std::move(rows)},
              {"next", next.empty() ? std::string() : more},
              {"can_create", c.member().roles.has(admin::Role::kAdmin)}});
  });
}

// The onboarding form, with what was typed and why it was refused.
void new_form(const Context& c, int status, std::string_view provider, std::string_view id,
              std::string_view settings, std::string_view error) {
  c.render(status, "Onboard a partner", "console/partner_new",
           {{"error", error},
            {"providers", provider_options(provider)},
            {"id", id},
            {"settings", settings}});
}

// The credentials an answer issued (`answer` has "issuedCredentials"): this page is the only one
// that ever shows them.
void issued_page(const Context& c, int status, std::string_view title, const json::Value& answer) {
  web::Node rows = web::Node::list();
  if (const json::Value* issued = answer.find("issuedCredentials"); issued && issued->is_array()) {
    for (const json::Value& cred : issued->as_array()) {
      rows.push({{"id", text_of(cred, "id")},
                 {"kind", text_of(cred, "kind")},
                 {"secret", text_of(cred, "secret")},
                 {"created", text_of(cred, "created")}});
    }
  }
  const json::Value* tenant = answer.find("tenant");
  const std::string key = tenant ? text_of(*tenant, "tenant") : std::string();
  c.render(status, title, "console/credentials_issued",
           {{"key", key}, {"link", partner_path(key)}, {"credentials", std::move(rows)}});
}

void create(const Context& c) {
  const std::string provider = c.form("provider");
  const std::string id = c.form("id");
  const std::string settings_text = c.form("settings");
  json::ParseResult settings = json::parse(settings_text.empty() ? "{}" : settings_text);
  if (!settings.value) {
    return new_form(c, 400, provider, id, settings_text,
                    "settings: not a JSON document (" + settings.error.message + " at byte " +
                        std::to_string(settings.error.offset) + ")");
  }
  std::string body;
  json::Writer w(body);
  w.begin_object().key("provider").string(provider).key("id").string(id);
  w.key("settings").value(*settings.value).end_object();
  c.admin("POST", "tenants", std::move(body),
          [c, provider, id, settings_text](const AdminAnswer& a) {
            if (a.ok()) return issued_page(c, 201, "Partner onboarded", a.json);
            if (a.status() == 400 || a.status() == 409) {
              return new_form(c, a.status(), provider, id, settings_text, a.error_text());
            }
            c.failed(a);
          });
}

web::Node credential_rows(const json::Value& tenant) {
  web::Node rows = web::Node::list();
  const json::Value* creds = tenant.find("credentials");
  if (!creds || !creds->is_array()) return rows;
  for (const json::Value& cred : creds->as_array()) {
    const std::string retires = text_of(cred, "retires");
    rows.push({{"id", text_of(cred, "id")},
               {"kind", text_of(cred, "kind")},
               {"source", text_of(cred, "source")},
               {"created", text_of(cred, "created")},
               {"retires", retires.empty() ? std::string("never (current)") : retires},
               {"uses", text_of(cred, "oldCredentialUses")}});
  }
  return rows;
}

web::Node funder_rows(const json::Value& answer, std::string_view key) {
  web::Node rows = web::Node::list();
  const json::Value* funders = answer.find("funders");
  if (!funders || !funders->is_array()) return rows;
  for (const json::Value& f : funders->as_array()) {
    const std::string code = text_of(f, "funderId");
    rows.push({{"code", code},
               {"name", text_of(f, "displayName")},
               {"balance", text_of(f, "balance")},
               {"reserved", text_of(f, "reserved")},
               {"available", text_of(f, "available")},
               {"link", "/console/funding/" + path_segment(key) + "#funder-" + code}});
  }
  return rows;
}

void show(const Context& c, const std::string& key) {
  const std::string tenant_path = "tenants/" + path_segment(key);
  c.admin("GET", tenant_path, {}, [c, key, tenant_path](const AdminAnswer& t) {
    if (!t.ok()) return c.failed(t);
    c.admin("GET", tenant_path + "/funders", {}, [c, key, tenant = t.json](const AdminAnswer& f) {
      if (!f.ok()) return c.failed(f);
      const admin::Roles roles = c.member().roles;
      const std::string status = text_of(tenant, "status");
      const json::Value* settings = tenant.find("settings");
      c.render(200, "Partner " + key, "console/partner",
               {{"key", key},
                {"link", partner_path(key)},
                {"provider", text_of(tenant, "provider")},
                {"id", text_of(tenant, "id")},
                {"status", status},
                {"source", text_of(tenant, "source")},
                {"revision", text_of(tenant, "revision")},
                {"created", text_of(tenant, "created")},
                {"updated", text_of(tenant, "updated")},
                {"settings", settings ? json::to_string(*settings) : std::string("{}")},
                {"funders", funder_rows(f.json, key)},
                {"users_link", "/console/cabinet-users/" + path_segment(key)},
                {"credentials", credential_rows(tenant)},
                {"can_admin", roles.has(admin::Role::kAdmin) && status != "closed"},
                {"can_suspend", roles.has(admin::Role::kSupport) && status == "active"},
                {"can_resume", roles.has(admin::Role::kSupport) && status == "suspended"}});
    });
  });
}

void edit_form(const Context& c, int status, const std::string& key, std::string_view settings,
               std::string_view error) {
  c.render(status, "Settings of " + key, "console/partner_edit",
           {{"error", error}, {"key", key}, {"link", partner_path(key)}, {"settings", settings}});
}

void edit(const Context& c, const std::string& key) {
  const std::string tenant_path = "tenants/" + path_segment(key);
  if (!c.post()) {
    return c.admin("GET", tenant_path, {}, [c, key](const AdminAnswer& a) {
      if (!a.ok()) return c.failed(a);
      const json::Value* settings = a.json.find("settings");
      edit_form(c, 200, key, settings ? json::to_string(*settings) : "{}", {});
    });
  }
  const std::string settings_text = c.form("settings");
  json::ParseResult settings = json::parse(settings_text);
  if (!settings.value) {
    return edit_form(c, 400, key, settings_text,
                     "settings: not a JSON document (" + settings.error.message + ")");
  }
  std::string body;
  json::Writer w(body);
  w.begin_object().key("settings").value(*settings.value).end_object();
  c.admin("PATCH", tenant_path, std::move(body), [c, key, settings_text](const AdminAnswer& a) {
    if (a.status() == 202) {  // a change maker-checker holds: it waits for a second person
      return c.redirect("/console/requests/" + path_segment(text_of(a.json, "id")));
    }
    if (a.ok()) return c.redirect(partner_path(key));
    if (a.status() == 400 || a.status() == 409) {
      return edit_form(c, a.status(), key, settings_text, a.error_text());
    }
    c.failed(a);
  });
}

// New credentials, the current ones kept for the overlap. The form carries the partner's revision
// as the page showed it: loading the answer page again (which re-sends the form) finds a newer
// revision and rotates nothing a second time.
void rotate(const Context& c, const std::string& key) {
  const std::string tenant_path = "tenants/" + path_segment(key);
  const std::string seen = c.form("revision");
  std::string overlap = c.form("overlap_s");
  if (overlap.empty()) overlap = "0";
  if (!json::is_number_literal(overlap)) {
    return c.message(400, "Not done", "The overlap must be a number of seconds");
  }
  c.admin("GET", tenant_path, {}, [c, key, tenant_path, seen, overlap](const AdminAnswer& t) {
    if (!t.ok()) return c.failed(t);
    if (text_of(t.json, "revision") != seen) {
      return c.message(409, "Not done",
                       "The partner changed since the page was shown (its credentials may have "
                       "been rotated already): open the partner again");
    }
    c.admin("POST", tenant_path + "/credentials/rotate", R"({"overlapSeconds":)" + overlap + "}",
            [c](const AdminAnswer& a) {
              if (!a.ok()) return c.failed(a);
              issued_page(c, 200, "New credentials", a.json);
            });
  });
}

void act(const Context& c, const std::string& key, const std::string& action) {
  if (action == "rotate") return rotate(c, key);
  c.admin("POST", "tenants/" + path_segment(key) + "/" + action, {},
          [c, key](const AdminAnswer& a) {
            if (!a.ok()) return c.failed(a);
            c.redirect(partner_path(key));
          });
}

// /console/partners/new, a page of its own: only admins onboard.
void serve_new(const Context& c) {
  if (!c.rest().empty()) return c.message(404, "No such page", "No such page");
  if (c.post()) return create(c);
  const std::string provider = c.query("provider");
  new_form(c, 200, provider, "", provider.empty() ? "" : example_of(provider), {});
}

void serve(const Context& c) {
  const auto rest = c.rest();
  if (rest.empty()) return c.post() ? c.message(405, "Not done", "Method not allowed") : list(c);
  const std::string& key = rest[0];
  if (rest.size() == 1 && !c.post()) return show(c, key);
  if (rest.size() == 2 && rest[1] == "edit") return edit(c, key);
  static constexpr std::string_view kActions[] = {"suspend", "resume", "close", "rotate"};
  for (const std::string_view action : kActions) {
    if (rest.size() == 2 && rest[1] == action && c.post()) return act(c, key, rest[1]);
  }
  c.message(404, "No such page", "No such page");
}

}  // namespace

void add_partner_pages(Pages& pages) {
  pages.add_page({.prefix = std::string(kBase),
                  .label = "Partners",
                  .needs = admin::Role::kViewer,
                  .serve = &serve});
  pages.add_page({.prefix = std::string(kBase) + "/new",
                  .label = "",
                  .needs = admin::Role::kAdmin,
                  .serve = &serve_new});
}

}  // namespace payoutd::console
