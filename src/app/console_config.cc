#include "app/console_config.h"

#include "cabinet/auth.h"
#include "config/reader.h"
#include "core/secrets.h"
#include "web/api.h"

namespace payoutd::app {
namespace {

using config::bounded;
using config::fail;
using config::required_string;

admin::Roles staff_roles(const toml::table& member, const std::string& where) {
  const toml::array* list = member["roles"].as_array();
  if (!list) fail(where + ".roles", "must be a list of roles: " + console::role_names());
  admin::Roles roles;
  for (const toml::node& node : *list) {
    const std::optional<std::string> name = node.value_exact<std::string>();
    const std::optional<admin::Role> role = name ? console::role_of(*name) : std::nullopt;
    if (!role) fail(where + ".roles", "each must be one of " + console::role_names());
    roles = roles.with(*role);
  }
  if (roles.empty()) fail(where + ".roles", "lists no role (" + console::role_names() + ")");
  return roles;
}

console::Seed staff_seed(const toml::table& member, const std::string& where, bool sandbox) {
  console::Seed seed;
  seed.login = required_string(member, where, "login");
  if (!web::is_partner_id(seed.login, console::kLoginSizeMax)) {
    fail(where + ".login", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
  }
  seed.name = required_string(member, where, "name");
  seed.roles = staff_roles(member, where);
  seed.password_hash = required_string(member, where, "password_hash");
  if (!cabinet::is_password_hash(seed.password_hash)) {
    fail(where + ".password_hash", "must be an argon2id hash (payoutd hash-password makes one)");
  }
  if (!sandbox && is_published_secret(seed.password_hash)) {
    fail(where + ".password_hash",
         "published with the sandbox, refused outside it: set secrets of your own");
  }
  return seed;
}

}  // namespace

void load_console(const toml::table& root, bool sandbox, const ThrottleOptions& throttle,
                  console::Options& options) {
  console::AuthOptions& o = options.auth;
  const toml::table& t = config::section(root, "console");
  o.checks.throttle = throttle;
  o.refuse_published_passwords = !sandbox;
  o.session_idle_ms = bounded(t, "console", "session_idle_minutes", 15, 1, 24LL * 60) * 60'000;
  o.session_max_ms = bounded(t, "console", "session_max_hours", 8, 1, 24LL * 7) * 3'600'000;
  o.device_ms = bounded(t, "console", "device_days", 30, 1, 3650) * 86'400'000LL;
  o.issuer = config::get_or<std::string>(t, "console", "issuer", "payoutd");
  if (o.issuer.empty() || o.issuer.size() > 64 || o.issuer.find(':') != std::string::npos) {
    fail("console.issuer", "1 to 64 characters, no ':' (the name authenticator apps show)");
  }
  const toml::table& admin = config::section(root, "admin");
  const toml::array* staff = admin["staff"].as_array();
  if (!staff) return;
  for (std::size_t i = 0; i < staff->size(); ++i) {
    const std::string where = "admin.staff[" + std::to_string(i) + "]";
    const toml::table* member = (*staff)[i].as_table();
    if (!member) fail(where, "must be a table");
    console::Seed seed = staff_seed(*member, where, sandbox);
    for (const console::Seed& existing : o.staff) {
      if (existing.login == seed.login) fail(where + ".login", "duplicate login");
    }
    o.staff.push_back(std::move(seed));
  }
}

}  // namespace payoutd::app
