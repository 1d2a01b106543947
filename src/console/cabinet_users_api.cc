#include "console/cabinet_users_api.h"

#include <sodium.h>

#include <algorithm>

#include "admin/answers.h"
#include "admin/routes.h"
#include "core/time_format.h"
#include "web/api.h"
#include "web/error_envelope.h"

namespace payoutd::console {
namespace {

using admin::error;
using admin::Role;
using cabinet::User;
using cabinet::UserChange;

// The times of a runtime user; null for the config's, which keep none.
void write_time(json::Writer& w, std::string_view key, const User& u, std::int64_t ms) {
  w.key(key);
  if (u.source == cabinet::UserSource::kConfig) {
    w.null();
  } else {
    w.string(format_iso8601(ms, web::kServerUtcOffsetMinutes));
  }
}

void write_user(json::Writer& w, const User& u) {
  w.begin_object().key("login").string(u.login).key("tenant").string(u.tenant.key());
  w.key("source").string(u.source == cabinet::UserSource::kConfig ? "config" : "runtime");
  w.key("roles").begin_array();
  for (const std::string_view name : cabinet::role_list(u.roles)) w.string(name);
  w.end_array();
  w.key("disabled").boolean(u.disabled).key("mustChangePassword").boolean(u.must_change_password);
  write_time(w, "created", u, u.created_ms);
  write_time(w, "updated", u, u.updated_ms);
  w.key("revision").integer(u.revision);
  w.end_object();
}

http::Response user_response(const User& u, int status = 200) {
  http::Response r;
  r.status = status;
  json::Writer w(r.body);
  write_user(w, u);
  return r;
}

// {"user": ..., "initialPassword": ...}: the one answer that shows the password.
http::Response with_password(const User& u, std::string& password, int status) {
  http::Response r;
  r.status = status;
  json::Writer w(r.body);
  w.begin_object().key("user");
  write_user(w, u);
  w.key("initialPassword").string(password).end_object();
  sodium_memzero(password.data(), password.size());
  return r;
}

http::Response refusal(UserChange change) {
  switch (change) {
    case UserChange::kNotFound:
      return error(404, "cabinet-user.not.found", "this tenant has no cabinet user of this login");
    case UserChange::kExists:
      return error(409, "cabinet-user.exists",
                   "a cabinet user has this login (logins are unique across every tenant's "
                   "users, the config's too)");
    case UserChange::kTooMany:
      return error(409, "cabinet-user.too.many",
                   "this tenant has " + std::to_string(cabinet::kUsersPerTenantMax) +
                       " cabinet users already: disable one and reuse it");
    case UserChange::kConfig:
      return error(409, "cabinet-user.config",
                   "this user is in the config ([[cabinet.users]]): change it there");
    case UserChange::kOk:
    case UserChange::kUnavailable:
      break;
  }
  return admin::unavailable();
}

// The body's object, every member one of `allowed`; nullopt after answering 400.
std::optional<json::Value> body_of(const http::Request& request,
                                   std::initializer_list<std::string_view> allowed,
                                   const http::Responder& respond) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  if (!body) {
    respond(error(400, "validation.error", problem));
    return std::nullopt;
  }
  for (const auto& [name, value] : body->as_object()) {
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string members;
    for (const std::string_view a : allowed) members.append(members.empty() ? "" : ", ").append(a);
    problem = name;
    problem.append(": is not a member of this body (").append(members).append(")");
    if (name == "password") problem += "; the password is generated and shown once";
    respond(error(400, "validation.error", problem));
    return std::nullopt;
  }
  return body;
}

// The roles a body names; nullopt after answering 400.
std::optional<cabinet::Roles> roles_of(const json::Value& body, const http::Responder& respond) {
  const json::Value* names = body.find("roles");
  const std::string all = cabinet::role_names();
  if (!names) {
    respond(error(400, "validation.error", "roles: is required (" + all + ")"));
    return std::nullopt;
  }
  std::vector<std::string> list;
  const bool strings =
      names->is_array() && std::all_of(names->as_array().begin(), names->as_array().end(),
                                       [](const json::Value& v) { return v.is_string(); });
  if (strings) {
    for (const json::Value& v : names->as_array()) list.push_back(v.as_string());
  }
  const cabinet::ParsedRoles parsed = cabinet::parse_roles(list);
  if (!strings) {
    respond(error(400, "validation.error", "roles: must be an array of roles (" + all + ")"));
  } else if (parsed.error == cabinet::RolesError::kEmpty) {
    respond(error(400, "validation.error", "roles: at least one role (" + all + ")"));
  } else if (parsed.error == cabinet::RolesError::kUnknown) {
    respond(error(400, "validation.error",
                  "roles: \"" + parsed.unknown + "\" is not a role (" + all + ")"));
  } else {
    return parsed.roles;
  }
  return std::nullopt;
}

}  // namespace

bool CabinetUsersApi::handle(http::Request& request, const admin::Actor& actor,
                             const Tenant& tenant, std::span<const std::string> path,
                             const http::Responder& respond) {
  using Answer = void (CabinetUsersApi::*)(const Call&);
  static constexpr admin::Route<Answer> kRoutes[] = {
      {Role::kViewer, "GET", "cabinet-users", "use GET to list, POST to create",
       &CabinetUsersApi::list},
      {Role::kSupport, "POST", "cabinet-users", "use GET to list, POST to create",
       &CabinetUsersApi::create},
      {Role::kViewer, "GET", "cabinet-users/*", "use GET or PATCH", &CabinetUsersApi::show},
      {Role::kSupport, "PATCH", "cabinet-users/*", "use GET or PATCH", &CabinetUsersApi::set_roles},
      {Role::kSupport, "POST", "cabinet-users/*/disable", "use POST", &CabinetUsersApi::disable},
      {Role::kSupport, "POST", "cabinet-users/*/enable", "use POST", &CabinetUsersApi::enable},
      {Role::kSupport, "POST", "cabinet-users/*/reset-password", "use POST",
       &CabinetUsersApi::reset_password},
  };
  const admin::Routed found = admin::find_route(kRoutes, request.method, path);
  if (!found.route) return false;
  if (!admin::admit(found, actor, respond)) {
    // answered
  } else if (path.size() > 1 && path[1].size() > cabinet::kLoginSizeMax) {
    respond(admin::invalid_id());
  } else {
    (this->*found.route->answer)({request, tenant, path, respond});
  }
  return true;
}

void CabinetUsersApi::list(const Call& call) {
  const auto users = users_.users().of_tenant(call.tenant);
  if (!users.ok()) return call.respond(admin::unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("users").begin_array();
  for (const User& u : *users) write_user(w, u);
  w.end_array().end_object();
  call.respond(std::move(r));
}

void CabinetUsersApi::create(const Call& call) {
  auto body = body_of(call.request, {"login", "roles"}, call.respond);
  if (!body) return;
  std::string problem, login;
  web::Fields f(*body, "", &problem);
  if (!f.string("login", cabinet::kLoginSizeMax, &login)) {
    return call.respond(error(400, "validation.error", problem));
  }
  if (!web::is_partner_id(login, cabinet::kLoginSizeMax)) {
    return call.respond(
        error(400, "validation.error", "login: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
  }
  const std::optional<cabinet::Roles> roles = roles_of(*body, call.respond);
  if (!roles) return;
  users_.create(call.tenant, std::move(login), *roles, call.request.peer_address,
                [respond = call.respond](UserChange c, const User& u, std::string password) {
                  if (c != UserChange::kOk) return respond(refusal(c));
                  respond(with_password(u, password, 201));
                });
}

void CabinetUsersApi::show(const Call& call) {
  const auto found = users_.users().find(call.path[1]);
  if (!found.ok()) return call.respond(admin::unavailable());
  if (!*found || (*found)->tenant != call.tenant) {
    return call.respond(refusal(UserChange::kNotFound));
  }
  call.respond(user_response(**found));
}

void CabinetUsersApi::set_roles(const Call& call) {
  auto body = body_of(call.request, {"roles"}, call.respond);
  if (!body) return;
  const std::optional<cabinet::Roles> roles = roles_of(*body, call.respond);
  if (!roles) return;
  users_.set_roles(call.tenant, call.path[1], *roles,
                   [respond = call.respond](UserChange c, const User& u) {
                     respond(c == UserChange::kOk ? user_response(u) : refusal(c));
                   });
}

void CabinetUsersApi::set_disabled(const Call& call, bool disabled) {
  users_.set_disabled(call.tenant, call.path[1], disabled,
                      [respond = call.respond](UserChange c, const User& u) {
                        respond(c == UserChange::kOk ? user_response(u) : refusal(c));
                      });
}

void CabinetUsersApi::reset_password(const Call& call) {
  users_.reset_password(
      call.tenant, call.path[1], call.request.peer_address,
      [respond = call.respond](UserChange c, const User& u, std::string password) {
        if (c != UserChange::kOk) return respond(refusal(c));
        respond(with_password(u, password, 200));
      });
}

}  // namespace payoutd::console
