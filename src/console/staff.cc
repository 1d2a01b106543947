#include "console/staff.h"

#include <sodium.h>

#include <algorithm>

#include "admin/answers.h"
#include "cabinet/credential_checks.h"
#include "core/hex.h"
#include "core/ids.h"
#include "engine/committer.h"

namespace payoutd::console {
namespace {

using admin::Role;
using admin::Roles;
using cabinet::record_object;

constexpr Role kRoles[] = {Role::kViewer, Role::kSupport, Role::kFinance, Role::kAdmin};
constexpr std::string_view kAdminsKey = "enabled";
constexpr std::size_t kKeyIdHexDigits = 16;
constexpr std::size_t kKeySecretChars = 43;  // 32 bytes, base64url without padding
constexpr std::int64_t kTouchEveryMs = 60'000;
// The key of API keys' hashes: not a secret (the secret is 256 random bits), it keeps these
// hashes apart from every other BLAKE2b in the store.
constexpr std::string_view kKeyHashContext = "payoutd staff API key v1 ........";

bool flag_member(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_bool() && m->as_bool();
}

bool is_base64url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

template <typename Result, typename Apply, typename Done>
bool submit(engine::PayoutEngine& engine, Apply apply, Done done) {
  return engine.committer().submit(engine::make_job<Result>(std::move(apply), std::move(done)));
}

std::optional<Member> find_member(store::WriteTxn& txn, std::string_view login) {
  return parse_member(txn.find_record("", kMemberRecord, login));
}

std::vector<std::string> admins_in(const std::optional<std::string>& record) {
  std::vector<std::string> logins;
  auto v = record_object(record);
  const json::Value* list = v ? v->find("logins") : nullptr;
  if (!list || !list->is_array()) return logins;
  for (const json::Value& login : list->as_array()) {
    if (login.is_string()) logins.push_back(login.as_string());
  }
  return logins;
}

// Writes `m` (inserted when `inserted`) and keeps the enabled admins' record in step with it.
// Returns false, writing nothing, when it would leave no enabled admin where there was one.
bool put_member(store::WriteTxn& txn, const Member& m, bool inserted) {
  const auto record = txn.find_record("", kAdminsRecord, kAdminsKey);
  std::vector<std::string> admins = admins_in(record);
  const bool was = std::find(admins.begin(), admins.end(), m.login) != admins.end();
  const bool is = m.roles.has(Role::kAdmin) && !m.disabled;
  if (was && !is && admins.size() == 1) return false;
  if (was != is) {
    if (is) {
      admins.push_back(m.login);
    } else {
      std::erase(admins, m.login);
    }
    std::string value;
    json::Writer w(value);
    w.begin_object().key("logins").begin_array();
    for (const std::string& login : admins) w.string(login);
    w.end_array().end_object();
    if (record) {
      txn.update_record("", kAdminsRecord, kAdminsKey, value);
    } else {
      txn.insert_record("", kAdminsRecord, kAdminsKey, value);
    }
  }
  if (inserted) {
    txn.insert_record("", kMemberRecord, m.login, member_json(m));
  } else {
    txn.update_record("", kMemberRecord, m.login, member_json(m));
  }
  return true;
}

}  // namespace

std::optional<Role> role_of(std::string_view name) {
  for (const Role role : kRoles) {
    if (admin::role_name(role) == name) return role;
  }
  return std::nullopt;
}

std::string role_names() {
  std::string out;
  for (const Role role : kRoles) out.append(out.empty() ? "" : ", ").append(admin::role_name(role));
  return out;
}

std::optional<Roles> roles_of(const json::Value& names, std::string* error) {
  if (!names.is_array()) {
    *error = "roles: must be an array of roles (" + role_names() + ")";
    return std::nullopt;
  }
  Roles roles;
  for (const json::Value& name : names.as_array()) {
    const std::optional<Role> role = name.is_string() ? role_of(name.as_string()) : std::nullopt;
    if (!role) {
      *error = "roles: each must be one of " + role_names();
      return std::nullopt;
    }
    roles = roles.with(*role);
  }
  if (roles.empty()) {
    *error = "roles: at least one role (" + role_names() + ")";
    return std::nullopt;
  }
  return roles;
}

void write_roles(json::Writer& w, Roles roles) {
  w.begin_array();
  for (const Role role : kRoles) {
    if (roles.granted(role)) w.string(admin::role_name(role));
  }
  w.end_array();
}

std::optional<KeyText> parse_api_key(std::string_view text) {
  if (!text.starts_with(kKeyPrefix)) return std::nullopt;
  text.remove_prefix(kKeyPrefix.size());
  if (text.size() != kKeyIdHexDigits + 1 + kKeySecretChars || text[kKeyIdHexDigits] != '_') {
    return std::nullopt;
  }
  const std::string_view id = text.substr(0, kKeyIdHexDigits);
  const std::string_view secret = text.substr(kKeyIdHexDigits + 1);
  if (!std::all_of(id.begin(), id.end(), is_lower_hex) ||
      !std::all_of(secret.begin(), secret.end(), is_base64url)) {
    return std::nullopt;
  }
  return KeyText{std::string(id), std::string(secret)};
}

KeyText new_api_key() {
  unsigned char id[kKeyIdHexDigits / 2];
  random_bytes(id, sizeof id);
  return {hex_encode(id), random_url_token(32)};
}

std::string api_key_text(const KeyText& key) {
  return std::string(kKeyPrefix) + key.id + "_" + key.secret;
}

std::string api_key_hash(const KeyText& key) {
  const std::string input = key.id + ":" + key.secret;
  unsigned char hash[32];
  static_assert(kKeyHashContext.size() >= crypto_generichash_KEYBYTES_MIN);
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), reinterpret_cast<const unsigned char*>(kKeyHashContext.data()),
                     kKeyHashContext.size());
  return hex_encode(hash);
}

std::string member_json(const Member& m) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("login").string(m.login).key("name").string(m.name).key("roles");
  write_roles(w, m.roles);
  w.key("passwordHash").string(m.password_hash);
  w.key("mustChangePassword").boolean(m.must_change_password);
  w.key("totp").string(m.totp_sealed).key("totpPending").string(m.totp_pending_sealed);
  w.key("totpUsedStep").integer(m.totp_used_step).key("disabled").boolean(m.disabled);
  w.key("activeKeys").integer(m.active_keys);
  w.key("createdMs").integer(m.created_ms).key("updatedMs").integer(m.updated_ms);
  w.end_object();
  return out;
}

std::optional<Member> parse_member(const std::optional<std::string>& record) {
  auto v = record_object(record);
  if (!v) return std::nullopt;
  Member m;
  m.login = json::string_member(*v, "login");
  m.name = json::string_member(*v, "name");
  std::string ignored;
  if (const json::Value* roles = v->find("roles")) {
    m.roles = roles_of(*roles, &ignored).value_or(Roles());
  }
  m.password_hash = json::string_member(*v, "passwordHash");
  m.must_change_password = flag_member(*v, "mustChangePassword");
  m.totp_sealed = json::string_member(*v, "totp");
  m.totp_pending_sealed = json::string_member(*v, "totpPending");
  m.totp_used_step = json::int_member(*v, "totpUsedStep");
  m.disabled = flag_member(*v, "disabled");
  m.active_keys = json::int_member(*v, "activeKeys");
  m.created_ms = json::int_member(*v, "createdMs");
  m.updated_ms = json::int_member(*v, "updatedMs");
  return m;
}

std::string key_json(const ApiKey& k) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("id").string(k.id).key("login").string(k.login).key("name").string(k.name);
  w.key("hash").string(k.hash).key("createdMs").integer(k.created_ms);
  w.key("lastUsedMs").integer(k.last_used_ms).key("revokedMs").integer(k.revoked_ms);
  w.end_object();
  return out;
}

std::optional<ApiKey> parse_key(const std::optional<std::string>& record) {
  auto v = record_object(record);
  if (!v) return std::nullopt;
  return ApiKey{json::string_member(*v, "id"),     json::string_member(*v, "login"),
                json::string_member(*v, "name"),   json::string_member(*v, "hash"),
                json::int_member(*v, "createdMs"), json::int_member(*v, "lastUsedMs"),
                json::int_member(*v, "revokedMs")};
}

store::Read<std::optional<Member>> Staff::member(std::string_view login) const {
  const auto record = store_.get_record("", kMemberRecord, login);
  if (!record.ok()) return Failure{record.error()};
  return parse_member(*record);
}

store::Read<std::vector<Member>> Staff::members() const {
  const auto records = store_.records_with_prefix("", kMemberRecord, "", kStaffListedMax);
  if (!records.ok()) return Failure{records.error()};
  std::vector<Member> out;
  for (const auto& [login, value] : *records) {
    if (auto m = parse_member(value)) out.push_back(std::move(*m));
  }
  return out;
}

store::Read<std::optional<ApiKey>> Staff::key(std::string_view id) const {
  const auto record = store_.get_record("", kKeyRecord, id);
  if (!record.ok()) return Failure{record.error()};
  return parse_key(*record);
}

store::Read<std::vector<ApiKey>> Staff::keys_of(std::string_view login) const {
  const auto records = store_.records_with_prefix("", kKeyRecord, "", kKeysReadMax);
  if (!records.ok()) return Failure{records.error()};
  std::vector<ApiKey> out;
  for (const auto& [id, value] : *records) {
    auto k = parse_key(value);
    if (k && k->login == login) out.push_back(std::move(*k));
  }
  std::sort(out.begin(), out.end(),
            [](const ApiKey& a, const ApiKey& b) { return a.created_ms < b.created_ms; });
  return out;
}

store::Read<std::vector<std::string>> Staff::enabled_admins() const {
  const auto record = store_.get_record("", kAdminsRecord, kAdminsKey);
  if (!record.ok()) return Failure{record.error()};
  return admins_in(*record);
}

void Staff::seed(std::vector<Seed> seeds, std::function<void(bool)> done) {
  auto apply = [seeds = std::move(seeds)](store::WriteTxn& txn, std::int64_t now_ms) {
    for (const Seed& s : seeds) {
      if (txn.find_record("", kMemberRecord, s.login)) continue;
      const Member m{.login = s.login,
                     .name = s.name,
                     .roles = s.roles,
                     .password_hash = s.password_hash,
                     .created_ms = now_ms,
                     .updated_ms = now_ms};
      put_member(txn, m, true);  // a new member never removes an admin
    }
    return true;
  };
  auto finish = [done](bool, const store::Status& status) { done(status.ok); };
  if (!submit<bool>(engine_, std::move(apply), finish)) done(false);
}

void Staff::create(Member m, std::function<void(Change, Member)> done) {
  using Outcome = std::pair<Change, Member>;
  auto apply = [m = std::move(m)](store::WriteTxn& txn, std::int64_t now_ms) {
    if (txn.find_record("", kMemberRecord, m.login)) return Outcome{Change::kExists, {}};
    Member created = m;
    created.created_ms = created.updated_ms = now_ms;
    put_member(txn, created, true);
    return Outcome{Change::kOk, created};
  };
  auto finish = [done](Outcome o, const store::Status& status) {
    if (!status.ok) return done(Change::kUnavailable, {});
    done(o.first, std::move(o.second));
  };
  if (!submit<Outcome>(engine_, std::move(apply), finish)) done(Change::kUnavailable, {});
}

void Staff::change_member(std::string login, MemberChange change,
                          std::function<void(Change, Member)> done) {
  using Outcome = std::pair<Change, Member>;
  auto apply = [login = std::move(login), change = std::move(change)](store::WriteTxn& txn,
                                                                      std::int64_t now_ms) {
    std::optional<Member> m = find_member(txn, login);
    if (!m) return Outcome{Change::kNotFound, {}};
    Member changed = *m;
    if (!change(changed, txn, now_ms)) return Outcome{Change::kOk, *m};
    changed.updated_ms = now_ms;
    if (!put_member(txn, changed, false)) return Outcome{Change::kLastAdmin, *m};
    return Outcome{Change::kOk, changed};
  };
  auto finish = [done](Outcome o, const store::Status& status) {
    if (!status.ok) return done(Change::kUnavailable, {});
    done(o.first, std::move(o.second));
  };
  if (!submit<Outcome>(engine_, std::move(apply), finish)) done(Change::kUnavailable, {});
}

void Staff::update(std::string login, std::optional<std::string> name, std::optional<Roles> roles,
                   const std::string& actor, std::function<void(Change, Member)> done) {
  if (roles && actor == login) return done(Change::kOwnRoles, {});
  change_member(
      std::move(login),
      [name = std::move(name), roles](Member& m, store::WriteTxn&, std::int64_t) {
        if (name) m.name = *name;
        if (roles) m.roles = *roles;
        return true;
      },
      std::move(done));
}

void Staff::set_disabled(std::string login, bool disabled,
                         std::function<void(Change, Member)> done) {
  change_member(
      std::move(login),
      [disabled](Member& m, store::WriteTxn&, std::int64_t) {
        m.disabled = disabled;
        return true;
      },
      std::move(done));
}

void Staff::create_key(std::string login, std::string name,
                       std::function<void(Change, ApiKey, std::string)> done) {
  struct Outcome {
    Change change = Change::kOk;
    ApiKey key;
  };
  const KeyText text = new_api_key();
  ApiKey key{.id = text.id, .login = std::move(login), .name = std::move(name)};
  key.hash = api_key_hash(text);
  auto apply = [key](store::WriteTxn& txn, std::int64_t now_ms) {
    std::optional<Member> m = find_member(txn, key.login);
    if (!m) return Outcome{Change::kNotFound, {}};
    if (m->active_keys >= static_cast<std::int64_t>(kKeysPerMemberMax)) {
      return Outcome{Change::kTooManyKeys, {}};
    }
    ApiKey created = key;
    created.created_ms = now_ms;
    txn.insert_record("", kKeyRecord, created.id, key_json(created));
    ++m->active_keys;
    m->updated_ms = now_ms;
    put_member(txn, *m, false);
    return Outcome{Change::kOk, created};
  };
  auto finish = [done, shown = api_key_text(text)](const Outcome& o, const store::Status& status) {
    if (!status.ok) return done(Change::kUnavailable, {}, {});
    done(o.change, o.key, o.change == Change::kOk ? shown : std::string());
  };
  if (!submit<Outcome>(engine_, std::move(apply), finish)) done(Change::kUnavailable, {}, {});
}

void Staff::revoke_key(std::string login, std::string id, std::function<void(Change)> done) {
  auto apply = [login = std::move(login), id = std::move(id)](store::WriteTxn& txn,
                                                              std::int64_t now_ms) {
    std::optional<ApiKey> key = parse_key(txn.find_record("", kKeyRecord, id));
    if (!key || key->login != login || key->revoked_ms != 0) return Change::kNotFound;
    key->revoked_ms = now_ms;
    txn.update_record("", kKeyRecord, id, key_json(*key));
    if (std::optional<Member> m = find_member(txn, login)) {
      m->active_keys = std::max<std::int64_t>(0, m->active_keys - 1);
      m->updated_ms = now_ms;
      put_member(txn, *m, false);
    }
    return Change::kOk;
  };
  auto finish = [done](Change c, const store::Status& status) {
    done(status.ok ? c : Change::kUnavailable);
  };
  if (!submit<Change>(engine_, std::move(apply), finish)) done(Change::kUnavailable);
}

void Staff::touch_key(const ApiKey& key) {
  const std::int64_t now_ms = clock_.now_ms();
  if (now_ms - key.last_used_ms < kTouchEveryMs) return;
  submit<bool>(
      engine_,
      [id = key.id](store::WriteTxn& txn, std::int64_t at_ms) {
        std::optional<ApiKey> current = parse_key(txn.find_record("", kKeyRecord, id));
        if (!current || current->revoked_ms != 0) return false;
        current->last_used_ms = at_ms;
        txn.update_record("", kKeyRecord, id, key_json(*current));
        return true;
      },
      [](bool, const store::Status&) {});
}

std::string seal_totp(const cards::Vault& vault, std::string_view login, std::string_view secret) {
  return vault.seal_message("", "staff-totp:" + std::string(login), secret);
}

std::optional<std::string> open_totp(const cards::Vault& vault, std::string_view login,
                                     std::string_view sealed) {
  if (sealed.empty()) return std::nullopt;
  return vault.open_message("", "staff-totp:" + std::string(login), sealed);
}

}  // namespace payoutd::console
