#include "cabinet/users.h"

#include <algorithm>
#include <array>

#include "cabinet/auth.h"
#include "cabinet/credential_checks.h"
#include "engine/committer.h"

namespace payoutd::cabinet {
namespace {

constexpr std::array kRoleOrder{Role::kViewer, Role::kCards, Role::kSettings};

bool flag(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_bool() && m->as_bool();
}

std::vector<std::string> logins_in(const std::optional<std::string>& record) {
  std::vector<std::string> logins;
  auto v = record_object(record);
  const json::Value* list = v ? v->find("logins") : nullptr;
  if (!list || !list->is_array()) return logins;
  for (const json::Value& login : list->as_array()) {
    if (login.is_string()) logins.push_back(login.as_string());
  }
  return logins;
}

std::string logins_json(const std::vector<std::string>& logins) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("logins").begin_array();
  for (const std::string& login : logins) w.string(login);
  w.end_array().end_object();
  return out;
}

template <typename Result, typename Apply, typename Done>
bool submit(engine::PayoutEngine& engine, Apply apply, Done done) {
  return engine.committer().submit(engine::make_job<Result>(std::move(apply), std::move(done)));
}

}  // namespace

std::vector<std::string_view> role_list(Roles roles) {
  std::vector<std::string_view> names;
  for (const Role role : kRoleOrder) {
    if (roles.allows(role)) names.push_back(role_name(role));
  }
  return names;
}

std::string user_json(const User& u) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("login").string(u.login).key("tenant").string(u.tenant.key());
  w.key("roles").begin_array();
  for (const std::string_view name : role_list(u.roles)) w.string(name);
  w.end_array();
  w.key("passwordHash").string(u.password_hash);
  w.key("mustChangePassword").boolean(u.must_change_password);
  w.key("disabled").boolean(u.disabled).key("generation").integer(u.generation);
  w.key("revision").integer(u.revision);
  w.key("createdMs").integer(u.created_ms).key("updatedMs").integer(u.updated_ms);
  w.end_object();
  return out;
}

std::optional<User> parse_user(const std::optional<std::string>& record) {
  auto v = record_object(record);
  if (!v) return std::nullopt;
  std::optional<Tenant> tenant = Tenant::parse(json::string_member(*v, "tenant"));
  const json::Value* roles = v->find("roles");
  if (!tenant || !roles || !roles->is_array()) return std::nullopt;
  std::vector<std::string> names;
  for (const json::Value& name : roles->as_array()) {
    if (name.is_string()) names.push_back(name.as_string());
  }
  const ParsedRoles parsed = parse_roles(names);
  if (parsed.error != RolesError::kNone) return std::nullopt;
  User u;
  u.login = json::string_member(*v, "login");
  u.tenant = std::move(*tenant);
  u.password_hash = json::string_member(*v, "passwordHash");
  u.roles = parsed.roles;
  u.source = UserSource::kRuntime;
  u.disabled = flag(*v, "disabled");
  u.must_change_password = flag(*v, "mustChangePassword");
  u.generation = json::int_member(*v, "generation");
  u.revision = json::int_member(*v, "revision");
  u.created_ms = json::int_member(*v, "createdMs");
  u.updated_ms = json::int_member(*v, "updatedMs");
  return u;
}

Users::Users(engine::PayoutEngine& engine, const store::Store& store, std::vector<User> config)
    : engine_(engine), store_(store), config_(std::move(config)) {
  for (User& u : config_) u.source = UserSource::kConfig;
}

const User* Users::config_user(std::string_view login) const {
  for (const User& u : config_) {
    if (u.login == login) return &u;
  }
  return nullptr;
}

store::Read<std::optional<User>> Users::find(std::string_view login) const {
  const auto record = store_.get_record("", kUserRecord, login);
  if (!record.ok()) return Failure{record.error()};
  if (const User* u = config_user(login)) return std::optional<User>(*u);
  return parse_user(*record);
}

store::Read<std::vector<User>> Users::of_tenant(const Tenant& tenant) const {
  std::vector<User> out;
  for (const User& u : config_) {
    if (u.tenant == tenant) out.push_back(u);
  }
  std::sort(out.begin(), out.end(), [](const User& a, const User& b) { return a.login < b.login; });
  const auto index = store_.get_record(tenant.key(), kTenantUsersRecord, kTenantUsersKey);
  if (!index.ok()) return Failure{index.error()};
  const std::vector<std::string> logins = logins_in(*index);
  if (logins.empty()) return out;
  const auto records = store_.records_with_keys("", kUserRecord, logins);
  if (!records.ok()) return Failure{records.error()};
  for (const auto& [login, value] : *records) {  // in key order
    std::optional<User> u = parse_user(value);
    if (u && u->tenant == tenant) out.push_back(std::move(*u));
  }
  return out;
}

store::Read<std::string> Users::config_conflict() const {
  for (const User& u : config_) {
    const auto record = store_.get_record("", kUserRecord, u.login);
    if (!record.ok()) return Failure{record.error()};
    if (*record) return u.login;
  }
  return std::string();
}

void Users::create(User u, std::string audit_detail, std::string address,
                   std::function<void(UserChange, User)> done) {
  using Outcome = std::pair<UserChange, User>;
  u.source = UserSource::kRuntime;
  const bool in_config = config_user(u.login) != nullptr;
  auto apply = [u = std::move(u), in_config, detail = std::move(audit_detail),
                address = std::move(address)](store::WriteTxn& txn, std::int64_t now_ms) {
    if (in_config || txn.find_record("", kUserRecord, u.login)) {
      return Outcome{UserChange::kExists, {}};
    }
    const std::string tenant = u.tenant.key();
    const auto index = txn.find_record(tenant, kTenantUsersRecord, kTenantUsersKey);
    std::vector<std::string> logins = logins_in(index);
    if (logins.size() >= kUsersPerTenantMax) return Outcome{UserChange::kTooMany, {}};
    User created = u;
    created.created_ms = created.updated_ms = now_ms;
    created.revision = 1;
    txn.insert_record("", kUserRecord, created.login, user_json(created));
    logins.push_back(created.login);
    std::sort(logins.begin(), logins.end());
    if (index) {
      txn.update_record(tenant, kTenantUsersRecord, kTenantUsersKey, logins_json(logins));
    } else {
      txn.insert_record(tenant, kTenantUsersRecord, kTenantUsersKey, logins_json(logins));
    }
    write_audit_line(txn, created.tenant, {now_ms, created.login, "user.created", detail, address});
    return Outcome{UserChange::kOk, created};
  };
  auto finish = [done](Outcome o, const store::Status& status) {
    if (!status.ok) return done(UserChange::kUnavailable, {});
    done(o.first, std::move(o.second));
  };
  if (!submit<Outcome>(engine_, std::move(apply), finish)) done(UserChange::kUnavailable, {});
}

void Users::change(const Tenant& tenant, std::string login, Edit edit,
                   std::function<void(UserChange, User)> done) {
  using Outcome = std::pair<UserChange, User>;
  if (const User* u = config_user(login)) {
    return done(u->tenant == tenant ? UserChange::kConfig : UserChange::kNotFound, {});
  }
  auto apply = [tenant, login = std::move(login), edit = std::move(edit)](store::WriteTxn& txn,
                                                                          std::int64_t now_ms) {
    std::optional<User> u = parse_user(txn.find_record("", kUserRecord, login));
    if (!u || u->tenant != tenant) return Outcome{UserChange::kNotFound, {}};
    User changed = *u;
    if (!edit(changed, txn, now_ms)) return Outcome{UserChange::kOk, *u};
    changed.updated_ms = now_ms;
    ++changed.revision;
    txn.update_record("", kUserRecord, login, user_json(changed));
    return Outcome{UserChange::kOk, changed};
  };
  auto finish = [done](Outcome o, const store::Status& status) {
    if (!status.ok) return done(UserChange::kUnavailable, {});
    done(o.first, std::move(o.second));
  };
  if (!submit<Outcome>(engine_, std::move(apply), finish)) done(UserChange::kUnavailable, {});
}

}  // namespace payoutd::cabinet
