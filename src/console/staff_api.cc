#include "console/staff_api.h"

#include <sodium.h>

#include "admin/answers.h"
#include "admin/routes.h"
#include "cabinet/auth.h"
#include "core/ids.h"
#include "core/secrets.h"
#include "web/api.h"

namespace payoutd::console {
namespace {

using admin::error;
using admin::Role;

constexpr std::size_t kInitialPasswordBytes = 15;  // 20 base64url characters, 120 bits

void write_member(json::Writer& w, const Member& m) {
  w.begin_object().key("login").string(m.login).key("name").string(m.name).key("roles");
  write_roles(w, m.roles);
  w.key("disabled").boolean(m.disabled).key("totpEnrolled").boolean(!m.totp_sealed.empty());
  w.key("mustChangePassword").boolean(m.must_change_password);
  w.key("activeApiKeys").integer(m.active_keys);
  w.key("createdMs").integer(m.created_ms).key("updatedMs").integer(m.updated_ms);
  w.end_object();
}

http::Response member_response(const Member& m, int status = 200) {
  http::Response r;
  r.status = status;
  json::Writer w(r.body);
  write_member(w, m);
  return r;
}

// The answer of a change that did not happen.
http::Response refusal(Change change) {
  switch (change) {
    case Change::kNotFound:
      return error(404, "staff.not.found", "no such staff member");
    case Change::kExists:
      return error(409, "staff.exists", "a staff member has this login");
    case Change::kOwnRoles:
      return error(403, "staff.own.roles", "a staff member cannot change their own roles");
    case Change::kLastAdmin:
      return error(409, "staff.last.admin",
                   "this would leave no enabled staff member with the admin role");
    case Change::kTooManyKeys:
      return error(409, "api-key.too.many",
                   "this member has " + std::to_string(kKeysPerMemberMax) +
                       " API keys already: revoke one first");
    case Change::kOk:
    case Change::kUnavailable:
      break;
  }
  return admin::unavailable();
}

// The JSON object of a request's body, or the 400 answered.
std::optional<json::Value> body_object(const http::Request& request,
                                       const http::Responder& respond) {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  if (!body) respond(error(400, "validation.error", problem));
  return body;
}

// A member's API keys are theirs and the admins' to see and change.
bool may_manage_keys(const admin::Actor& actor, std::string_view login) {
  return actor.id == login || actor.roles.has(Role::kAdmin);
}

}  // namespace

bool StaffApi::handle(http::Request& request, const admin::Actor& actor,
                      std::span<const std::string> path, const http::Responder& respond) {
  using Answer = void (StaffApi::*)(const Call&);
  static constexpr admin::Route<Answer> kRoutes[] = {
      {Role::kViewer, "GET HEAD", "*", "use GET or PATCH", &StaffApi::show},
      {Role::kAdmin, "PATCH", "*", "use GET or PATCH", &StaffApi::update},
      {Role::kAdmin, "POST", "*/disable", "use POST", &StaffApi::disable},
      {Role::kAdmin, "POST", "*/enable", "use POST", &StaffApi::enable},
      // Each member's own, or an admin's: checked by the answers.
      {Role::kViewer, "GET HEAD", "*/api-keys", "use GET or POST", &StaffApi::list_keys},
      {Role::kViewer, "POST", "*/api-keys", "use GET or POST", &StaffApi::create_key},
      {Role::kViewer, "DELETE", "*/api-keys/*", "use DELETE", &StaffApi::revoke_key},
  };
  const Call call{request, actor, path, respond};
  if (path.empty()) {  // /admin/v1/staff itself
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (!get && request.method != "POST") {
      respond(error(405, "method.not.allowed", "use GET or POST"));
    } else if (!actor.roles.has(get ? Role::kViewer : Role::kAdmin)) {
      respond(admin::role_missing(get ? Role::kViewer : Role::kAdmin));
    } else {
      get ? list(call) : create(call);
    }
    return true;
  }
  const admin::Routed found = admin::find_route(kRoutes, request.method, path);
  if (!found.route) return false;
  // A member's own keys need no role (may_manage_keys decides); every other path its route's.
  const bool keys_path = path.size() >= 2 && path[1] == "api-keys";
  if (!found.method_allowed) {
    respond(error(405, "method.not.allowed", found.route->wrong_method));
  } else if (!web::is_partner_id(path[0], kLoginSizeMax) ||
             (path.size() == 3 && !web::is_partner_id(path[2], kLoginSizeMax))) {
    respond(admin::invalid_id());
  } else if (!keys_path && !actor.roles.has(found.route->role)) {
    respond(admin::role_missing(found.route->role));
  } else {
    (this->*found.route->answer)(call);
  }
  return true;
}

void StaffApi::create(const Call& call) {
  auto body = body_object(call.request, call.respond);
  if (!body) return;
  std::string problem;
  web::Fields f(*body, "", &problem);
  Member m;
  const json::Value* roles = body->find("roles");
  std::optional<admin::Roles> parsed;
  if (!f.string("login", kLoginSizeMax, &m.login) ||
      !f.string("name", admin::kNameSizeMax, &m.name)) {
    return call.respond(error(400, "validation.error", problem));
  }
  if (!web::is_partner_id(m.login, kLoginSizeMax)) {
    return call.respond(
        error(400, "validation.error", "login: must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
  }
  if (!roles || !(parsed = roles_of(*roles, &problem))) {
    return call.respond(error(400, "validation.error", roles ? problem : "roles: is required"));
  }
  m.roles = *parsed;
  m.must_change_password = true;
  // argon2id of the generated password on the credential worker, never on this I/O thread.
  checks_.queue(call.request.peer_address,
                [this, m = std::move(m), respond = call.respond](bool busy) mutable {
                  if (busy)
                    return respond(error(503, "service.busy", "too many password checks: retry"));
                  std::string password = random_url_token(kInitialPasswordBytes);
                  m.password_hash = cabinet::hash_password(password);
                  staff_.create(m, [password = std::move(password), respond](
                                       Change change, const Member& created) mutable {
                    if (change != Change::kOk) {
                      sodium_memzero(password.data(), password.size());
                      return respond(refusal(change));
                    }
                    http::Response r;
                    r.status = 201;
                    json::Writer w(r.body);
                    w.begin_object().key("member");
                    write_member(w, created);
                    w.key("initialPassword").string(password).end_object();
                    sodium_memzero(password.data(), password.size());
                    respond(std::move(r));
                  });
                });
}

void StaffApi::list(const Call& call) {
  const auto members = staff_.members();
  if (!members.ok()) return call.respond(admin::unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("staff").begin_array();
  for (const Member& m : *members) write_member(w, m);
  w.end_array().end_object();
  call.respond(std::move(r));
}

void StaffApi::show(const Call& call) {
  const auto m = staff_.member(call.path[0]);
  if (!m.ok()) return call.respond(admin::unavailable());
  if (!*m) return call.respond(refusal(Change::kNotFound));
  call.respond(member_response(**m));
}

void StaffApi::update(const Call& call) {
  auto body = body_object(call.request, call.respond);
  if (!body) return;
  std::string problem;
  web::Fields f(*body, "", &problem);
  std::string name;
  std::optional<admin::Roles> roles;
  if (!f.string("name", admin::kNameSizeMax, &name, false)) {
    return call.respond(error(400, "validation.error", problem));
  }
  if (const json::Value* names = body->find("roles");
      names && !(roles = roles_of(*names, &problem))) {
    return call.respond(error(400, "validation.error", problem));
  }
  if (name.empty() && !roles) {
    return call.respond(error(400, "validation.error", "name or roles: at least one is required"));
  }
  staff_.update(call.path[0], name.empty() ? std::nullopt : std::optional(name), roles,
                call.actor.id, [respond = call.respond](Change change, const Member& m) {
                  respond(change == Change::kOk ? member_response(m) : refusal(change));
                });
}

void StaffApi::set_disabled(const Call& call, bool disabled) {
  staff_.set_disabled(call.path[0], disabled,
                      [respond = call.respond](Change change, const Member& m) {
                        respond(change == Change::kOk ? member_response(m) : refusal(change));
                      });
}

void StaffApi::create_key(const Call& call) {
  if (!may_manage_keys(call.actor, call.path[0]))
    return call.respond(admin::role_missing(Role::kAdmin));
  auto body = body_object(call.request, call.respond);
  if (!body) return;
  std::string problem, key_name;
  web::Fields f(*body, "", &problem);
  if (!f.string("name", admin::kNameSizeMax, &key_name)) {
    return call.respond(error(400, "validation.error", problem));
  }
  staff_.create_key(call.path[0], std::move(key_name),
                    [respond = call.respond](Change change, const ApiKey& key, std::string text) {
                      if (change != Change::kOk) return respond(refusal(change));
                      http::Response r;
                      r.status = 201;
                      json::Writer w(r.body);
                      w.begin_object().key("keyId").string(key.id).key("name").string(key.name);
                      w.key("key").string(text).key("createdMs").integer(key.created_ms);
                      w.end_object();
                      sodium_memzero(text.data(), text.size());
                      respond(std::move(r));
                    });
}

void StaffApi::list_keys(const Call& call) {
  if (!may_manage_keys(call.actor, call.path[0]))
    return call.respond(admin::role_missing(Role::kAdmin));
  const auto member = staff_.member(call.path[0]);
  if (!member.ok()) return call.respond(admin::unavailable());
  if (!*member) return call.respond(refusal(Change::kNotFound));
  const auto keys = staff_.keys_of(call.path[0]);
  if (!keys.ok()) return call.respond(admin::unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("apiKeys").begin_array();
  for (const ApiKey& k : *keys) {
    if (k.revoked_ms != 0) continue;
    w.begin_object().key("keyId").string(k.id).key("name").string(k.name);
    w.key("createdMs").integer(k.created_ms).key("lastUsedMs").integer(k.last_used_ms);
    w.end_object();
  }
  w.end_array().end_object();
  call.respond(std::move(r));
}

void StaffApi::revoke_key(const Call& call) {
  if (!may_manage_keys(call.actor, call.path[0]))
    return call.respond(admin::role_missing(Role::kAdmin));
  staff_.revoke_key(call.path[0], call.path[2], [respond = call.respond](Change change) {
    if (change == Change::kNotFound) {
      return respond(error(404, "api-key.not.found", "this member has no such API key"));
    }
    if (change != Change::kOk) return respond(refusal(change));
    http::Response r;
    r.status = 204;
    respond(std::move(r));
  });
}

bool StaffApi::is_key(std::string_view bearer) const { return bearer.starts_with(kKeyPrefix); }

admin::KeyDirectory::Identified StaffApi::identify(std::string_view key,
                                                   const std::string& address) {
  const std::optional<KeyText> text = parse_api_key(key);
  if (!text) return {};
  const auto stored = staff_.key(text->id);
  if (!stored.ok()) return {Verdict::kUnavailable};
  // Compared in constant time; an unknown id is compared against nothing and refused alike.
  const std::string expected = *stored ? (*stored)->hash : std::string();
  if (!secrets_equal(api_key_hash(*text), expected) || (*stored)->revoked_ms != 0) return {};
  const auto member = staff_.member((*stored)->login);
  if (!member.ok()) return {Verdict::kUnavailable};
  if (!*member || (*member)->disabled) return {};
  staff_.touch_key(**stored);
  return {Verdict::kStaff, admin::Actor{.id = (*member)->login,
                                        .roles = (*member)->roles,
                                        .via = "api-key:" + text->id,
                                        .address = address}};
}

std::optional<bool> StaffApi::token_open() {
  const auto admins = staff_.enabled_admins();
  if (!admins.ok()) return std::nullopt;
  for (const std::string& login : *admins) {
    const auto member = staff_.member(login);
    if (!member.ok()) return std::nullopt;
    if (*member && !(*member)->disabled && (*member)->active_keys > 0) return false;
  }
  return true;
}

}  // namespace payoutd::console
