#include "tenants/changes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "core/assert.h"
#include "core/money.h"

namespace payoutd::tenants {

using store::WriteTxn;

namespace {

// Credentials a tenant keeps: the working ones and the latest retired (shown to the operator
// with their uses); older retired ones are dropped.
constexpr std::size_t kCredentialsMax = 8;

ChangeResult failure(ChangeError error, std::string detail) {
  ChangeResult r;
  r.error = error;
  r.detail = std::move(detail);
  return r;
}

std::optional<TenantRecord> read_tenant(WriteTxn& txn, const std::string& key) {
  const auto text = txn.find_record("", kTenantRecord, key);
  if (!text) return std::nullopt;
  auto record = record_from_json(*text);
  PAYOUTD_ASSERT(record.has_value(), "a tenant record the directory wrote reads back");
  return record;
}

// Raises the directory's revision: every node's poll sees that something changed.
void bump_revision(WriteTxn& txn) {
  const auto current = txn.find_record("", kRevisionRecord, kRevisionKey);
  if (!current) {
    txn.insert_record("", kRevisionRecord, kRevisionKey, "1");
    return;
  }
  txn.update_record("", kRevisionRecord, kRevisionKey, std::to_string(std::stoll(*current) + 1));
}

// Writes `record` (a new one when `inserted`), one revision on.
void write_tenant(WriteTxn& txn, TenantRecord& record, bool inserted, std::int64_t now_ms) {
  record.revision += 1;
  record.updated_ms = now_ms;
  if (inserted) {
    record.created_ms = now_ms;
    txn.insert_record("", kTenantRecord, record.tenant.key(), to_json(record));
  } else {
    txn.update_record("", kTenantRecord, record.tenant.key(), to_json(record));
  }
  bump_revision(txn);
}

// The settings `settings` of `tenant` keeps, decoded; nullptr, logged, when they do not decode
// (written by another version of payoutd, or edited by hand): the change is refused, kUnreadable.
std::shared_ptr<const Settings> decode_stored(const Kind& kind, const Tenant& tenant,
                                              const std::string& settings) {
  const json::ParseResult parsed = json::parse(settings);
  std::string problem = parsed.value ? "" : "not JSON";
  auto decoded = parsed.value ? kind.decode(*parsed.value, &problem) : nullptr;
  if (!decoded)
    spdlog::error("tenant {}: its stored settings do not decode: {}", tenant.key(), problem);
  return decoded;
}

ChangeResult unreadable(const Tenant& tenant) {
  return failure(ChangeError::kUnreadable,
                 "tenant " + tenant.key() + ": its stored settings do not decode (see the log)");
}

// Opens every account `accounts` lists (those open already are found); the first refusal stops
// it. Accounts opened before a refusal stay open, at zero: harmless, and found again by a retry.
ChangeError open_accounts(WriteTxn& txn, const Tenant& tenant, const TenantAccounts& accounts,
                          std::int64_t now_ms, ChangeResult& out) {
  const std::string key = tenant.key();
  auto take = [&](engine::AdminResult r, std::string_view what) {
    if (r.error != engine::Error::kNone) {
      out.detail = std::string(what) + ": " + r.detail;
      return false;
    }
    for (auto& a : r.accounts) out.accounts.push_back(std::move(a));
    return true;
  };
  for (const auto& f : accounts.funders) {
    if (!take(engine::open_funder(txn, key, f, now_ms), "funder " + f.code)) {
      return ChangeError::kConflict;
    }
  }
  for (const auto& c : accounts.clients) {
    if (!take(engine::open_client(txn, key, c, now_ms), "client " + c.client_id)) {
      return ChangeError::kConflict;
    }
  }
  return ChangeError::kNone;
}

using Issued = std::vector<std::pair<IssuedCredential, Credential>>;

// What `secret`, credential `id` of `tenant`, is kept as: its digest, or sealed by `vault`.
std::string kept_as(Storage storage, const cards::Vault* vault, const Tenant& tenant,
                    const std::string& id, std::string_view secret) {
  if (storage == Storage::kHashed) return digest_hex(credential_digest(secret));
  PAYOUTD_ASSERT(vault && vault->is_open(), "a sealed credential is kept only with the vault");
  return vault->seal_credential(tenant.key(), id, secret);
}

// Why a tenant of `kind` cannot be onboarded or given credentials on this node without an open
// vault (its partners pay cards, whose numbers the vault seals; or a credential of it is sealed),
// or "".
std::string refuse_without_vault(const Kind& kind, const cards::Vault* vault) {
  if (vault && vault->is_open()) return {};
  if (kind.pays_cards()) {
    return "provider: " + std::string(kind.provider()) +
           " partners pay cards, and this node has no card vault: set [vault] kek (or "
           "PAYOUTD_VAULT_KEK) and restart";
  }
  for (const CredentialKind& k : kind.credential_kinds()) {
    if (k.storage == Storage::kSealed) {
      return "credentials: " + std::string(kind.provider()) + "'s " + std::string(k.name) +
             " is sealed by the vault, and this node has none: set [vault] kek (or "
             "PAYOUTD_VAULT_KEK)";
    }
  }
  return {};
}

// One new credential of each kind `kind` issues to `tenant`. REQUIRES: refuse_without_vault is "".
Issued issue(const Kind& kind, const Tenant& tenant, const cards::Vault* vault,
             std::int64_t now_ms) {
  Issued out;
  for (const CredentialKind& k : kind.credential_kinds()) {
    IssuedCredential shown{new_credential_id(), std::string(k.name), new_secret(k.secret_bytes),
                           now_ms};
    Credential kept{.id = shown.id,
                    .kind = shown.kind,
                    .storage = k.storage,
                    .stored = kept_as(k.storage, vault, tenant, shown.id, shown.secret),
                    .created_ms = now_ms,
                    .retires_ms = 0,
                    .source = Source::kRuntime};
    out.emplace_back(std::move(shown), std::move(kept));
  }
  return out;
}

// What keeps a tenant from closing: money on a funder, or money in flight on any account.
std::string not_empty(WriteTxn& txn, const std::string& key, const TenantAccounts& accounts) {
  for (const auto& f : accounts.funders) {
    const ledger::Account* a = txn.find_account(key, ledger::AccountKind::kFunder, f.code);
    if (!a) continue;
    if (a->balance() != 0) {
      return "funder " + f.code + " holds " + format_decimal(a->balance(), a->currency.exponent()) +
             " " + std::string(a->currency.code());
    }
    if (a->debits_pending != 0 || a->credits_pending != 0) {
      return "funder " + f.code + " has payouts in flight";
    }
  }
  for (const auto& c : accounts.clients) {
    const ledger::Account* a = txn.find_account(key, ledger::AccountKind::kWallet, c.account_code);
    if (a && (a->debits_pending != 0 || a->credits_pending != 0)) {
      return "client " + c.client_id + " has payouts in flight";
    }
  }
  return {};
}

// Drops the oldest retired credentials beyond kCredentialsMax.
void prune_credentials(std::vector<Credential>& credentials, std::int64_t now_ms) {
  while (credentials.size() > kCredentialsMax) {
    auto oldest = std::find_if(credentials.begin(), credentials.end(),
                               [now_ms](const Credential& c) { return !c.works_at(now_ms); });
    if (oldest == credentials.end()) return;
    credentials.erase(oldest);
  }
}

// Whether `holder`'s current settings still hold `name` (a tenant renamed since frees its old
// name).
bool still_holds(WriteTxn& txn, const Kind& kind, const std::string& holder,
                 const UniqueName& name) {
  const auto record = read_tenant(txn, holder);
  if (!record) return false;
  const auto settings = decode_stored(kind, record->tenant, record->settings);
  if (!settings) return true;  // unknown: the name stays its holder's
  for (const UniqueName& n : kind.unique_names(*settings)) {
    if (n.member == name.member && n.value == name.value) return true;
  }
  return false;
}

// Takes each unique name of `settings` for `tenant`: "" when all are its own now, else why not
// ("settings.userName: bereke:other has it"). Decided from this transaction: two tenants taking
// one name at once both write its record, and one commit fails as a conflict and runs again.
std::string take_names(WriteTxn& txn, const Kind& kind, const Tenant& tenant,
                       const Settings& settings) {
  const std::string key = tenant.key();
  for (const UniqueName& name : kind.unique_names(settings)) {
    const std::string name_key = tenant.provider + "/" + name.value;
    const auto holder = txn.find_record("", kNameRecord, name_key);
    if (holder && *holder == key) continue;
    if (!holder) {
      txn.insert_record("", kNameRecord, name_key, key);
      continue;
    }
    if (still_holds(txn, kind, *holder, name)) {
      return name.member + ": another partner (" + *holder + ") has this value";
    }
    txn.update_record("", kNameRecord, name_key, key);
  }
  return {};
}

}  // namespace

std::string_view change_error_code(ChangeError error) {
  switch (error) {
    case ChangeError::kNone:
      return "";
    case ChangeError::kNotFound:
      return "tenant.not.found";
    case ChangeError::kExists:
      return "tenant.exists";
    case ChangeError::kInvalid:
      return "validation.error";
    case ChangeError::kConflict:
      return "id.conflict";
    case ChangeError::kClosed:
      return "tenant.closed";
    case ChangeError::kNotEmpty:
      return "tenant.not.empty";
    case ChangeError::kNameTaken:
      return "tenant.name.taken";
    case ChangeError::kUnavailable:
      return "service.unavailable";
    case ChangeError::kNoVault:
      return "vault.required";
    case ChangeError::kUnreadable:
      return "tenant.settings.unreadable";
  }
  return "internal.error";
}

Changes::Changes(engine::Committer& committer, Directory& directory, const Clock& clock)
    : committer_(committer), directory_(directory), clock_(clock) {}

void Changes::submit(Apply apply, ChangeCallback done) {
  Directory& directory = directory_;
  auto job = engine::make_job<ChangeResult>(
      std::move(apply), [&directory, done](ChangeResult r, const store::Status& status) {
        if (!status.ok) r = failure(ChangeError::kUnavailable, "storage unavailable, retry");
        directory.after_refresh([done, r = std::move(r)]() mutable { done(std::move(r)); });
      });
  if (!committer_.submit(std::move(job))) {
    done(failure(ChangeError::kUnavailable, "the engine is overloaded, retry"));
  }
}

void Changes::create(Tenant tenant, const json::Value& settings, ChangeCallback done) {
  const Kind* kind = directory_.kind(tenant.provider);
  if (!kind) return done(failure(ChangeError::kInvalid, "provider: no such provider"));
  if (std::string refused = kind->refuse_id(tenant.id); !refused.empty()) {
    return done(failure(ChangeError::kInvalid, std::move(refused)));
  }
  std::string problem;
  std::shared_ptr<const Settings> decoded = kind->decode(settings, &problem);
  if (!decoded) return done(failure(ChangeError::kInvalid, problem));
  if (std::string refused = refuse_without_vault(*kind, directory_.vault()); !refused.empty()) {
    return done(failure(ChangeError::kNoVault, std::move(refused)));
  }
  auto credentials = issue(*kind, tenant, directory_.vault(), clock_.now_ms());
  submit(
      [kind, tenant = std::move(tenant), decoded, credentials](WriteTxn& txn, std::int64_t now_ms) {
        if (txn.find_record("", kTenantRecord, tenant.key())) {
          return failure(ChangeError::kExists, "a tenant with this id exists (or existed)");
        }
        if (std::string taken = take_names(txn, *kind, tenant, *decoded); !taken.empty()) {
          return failure(ChangeError::kNameTaken, std::move(taken));
        }
        ChangeResult r;
        if (const ChangeError e =
                open_accounts(txn, tenant, kind->accounts(tenant, *decoded), now_ms, r);
            e != ChangeError::kNone) {
          return failure(e, r.detail);
        }
        r.record.tenant = tenant;
        r.record.settings = kind->encode(*decoded);
        for (const auto& [shown, kept] : credentials) {
          r.issued.push_back(shown);
          r.record.credentials.push_back(kept);
        }
        write_tenant(txn, r.record, true, now_ms);
        return r;
      },
      std::move(done));
}

void Changes::apply_settings(Tenant tenant, SettingsEdit edit, ChangeCallback done) {
  const Kind* kind = directory_.kind(tenant.provider);
  if (!kind) return done(failure(ChangeError::kNotFound, "no such tenant"));
  submit(
      [kind, tenant = std::move(tenant), edit = std::move(edit)](WriteTxn& txn,
                                                                 std::int64_t now_ms) {
        Proposal p = propose(txn, *kind, tenant, edit);
        if (p.error != ChangeError::kNone) return failure(p.error, std::move(p.detail));
        // Every amount counts as above the threshold here: any change maker-checker weighs.
        const ApprovalNeed need =
            kind->approval_needed(*p.current, *p.next, [](const Amount&) { return true; });
        if (need.approval != Approval::kNone) {
          return failure(ChangeError::kInvalid,
                         need.reason + " (changed only through PATCH /admin/v1/tenants/" +
                             tenant.key() + ", under maker-checker)");
        }
        return write(txn, *kind, std::move(p), now_ms);
      },
      std::move(done));
}

Proposal Changes::propose(WriteTxn& txn, const Kind& kind, const Tenant& tenant,
                          const SettingsEdit& edit) {
  Proposal p;
  auto record = read_tenant(txn, tenant.key());
  if (!record) return {ChangeError::kNotFound, "no such tenant", {}, nullptr, nullptr};
  if (record->status == Status::kClosed) {
    return {ChangeError::kClosed, "the tenant is closed", {}, nullptr, nullptr};
  }
  p.current = decode_stored(kind, tenant, record->settings);
  if (!p.current) {
    ChangeResult refused = unreadable(tenant);
    return {refused.error, std::move(refused.detail), {}, nullptr, nullptr};
  }
  Edited edited = edit(kind, *p.current);
  if (!edited.settings) return {edited.error, std::move(edited.detail), {}, nullptr, nullptr};
  if (std::string refused = kind.refuse_change(*p.current, *edited.settings); !refused.empty()) {
    return {ChangeError::kInvalid, std::move(refused), {}, nullptr, nullptr};
  }
  p.next = std::move(edited.settings);
  p.record = std::move(*record);
  return p;
}

ChangeResult Changes::write(WriteTxn& txn, const Kind& kind, Proposal p, std::int64_t now_ms) {
  PAYOUTD_ASSERT(p.error == ChangeError::kNone && p.next, "a refused proposal is never written");
  const Tenant& tenant = p.record.tenant;
  if (std::string taken = take_names(txn, kind, tenant, *p.next); !taken.empty()) {
    return failure(ChangeError::kNameTaken, std::move(taken));
  }
  ChangeResult r;
  if (const ChangeError e = open_accounts(txn, tenant, kind.accounts(tenant, *p.next), now_ms, r);
      e != ChangeError::kNone) {
    return failure(e, r.detail);
  }
  std::string next = kind.encode(*p.next);
  if (next != p.record.settings) {
    p.record.settings = std::move(next);
    write_tenant(txn, p.record, false, now_ms);
  }
  r.record = std::move(p.record);
  return r;
}

SettingsEdit Changes::merge(json::Value patch) {
  return [patch = std::move(patch)](const Kind& kind, const Settings& current) {
    json::Value merged = *json::parse(kind.encode(current)).value;
    json::Value::Object members = merged.as_object();
    for (const auto& member : patch.as_object()) {
      const std::string& name = member.first;  // clang 14 cannot capture a structured binding
      auto at = std::find_if(members.begin(), members.end(),
                             [&name](const auto& m) { return m.first == name; });
      if (at == members.end()) {
        members.push_back(member);
      } else {
        at->second = member.second;
      }
    }
    Edited edited;
    edited.settings = kind.decode(json::Value::object(std::move(members)), &edited.detail);
    return edited;
  };
}

void Changes::set_status(Tenant tenant, Status status, ChangeCallback done) {
  PAYOUTD_ASSERT(status != Status::kClosed, "closing is Changes::close");
  submit(
      [tenant = std::move(tenant), status](WriteTxn& txn, std::int64_t now_ms) {
        auto record = read_tenant(txn, tenant.key());
        if (!record) return failure(ChangeError::kNotFound, "no such tenant");
        if (record->status == Status::kClosed) {
          return failure(ChangeError::kClosed, "the tenant is closed");
        }
        if (record->status != status) {
          record->status = status;
          write_tenant(txn, *record, false, now_ms);
        }
        ChangeResult r;
        r.record = std::move(*record);
        return r;
      },
      std::move(done));
}

void Changes::close(Tenant tenant, ChangeCallback done) {
  const Kind* kind = directory_.kind(tenant.provider);
  if (!kind) return done(failure(ChangeError::kNotFound, "no such tenant"));
  submit(
      [kind, tenant = std::move(tenant)](WriteTxn& txn, std::int64_t now_ms) {
        auto record = read_tenant(txn, tenant.key());
        if (!record) return failure(ChangeError::kNotFound, "no such tenant");
        ChangeResult r;
        if (record->status != Status::kClosed) {
          const auto settings = decode_stored(*kind, tenant, record->settings);
          if (!settings) return unreadable(tenant);
          if (std::string held = not_empty(txn, tenant.key(), kind->accounts(tenant, *settings));
              !held.empty()) {
            return failure(ChangeError::kNotEmpty, std::move(held));
          }
          record->status = Status::kClosed;
          for (Credential& c : record->credentials) {
            if (c.works_at(now_ms)) c.retires_ms = now_ms;
          }
          write_tenant(txn, *record, false, now_ms);
        }
        r.record = std::move(*record);
        return r;
      },
      std::move(done));
}

void Changes::rotate(Tenant tenant, std::int64_t overlap_ms, ChangeCallback done) {
  const Kind* kind = directory_.kind(tenant.provider);
  if (!kind) return done(failure(ChangeError::kNotFound, "no such tenant"));
  if (std::string refused = refuse_without_vault(*kind, directory_.vault()); !refused.empty()) {
    return done(failure(ChangeError::kNoVault, std::move(refused)));
  }
  auto credentials = issue(*kind, tenant, directory_.vault(), clock_.now_ms());
  submit(
      [tenant = std::move(tenant), overlap_ms, credentials](WriteTxn& txn, std::int64_t now_ms) {
        auto record = read_tenant(txn, tenant.key());
        if (!record) return failure(ChangeError::kNotFound, "no such tenant");
        if (record->status == Status::kClosed) {
          return failure(ChangeError::kClosed, "the tenant is closed");
        }
        const std::int64_t retires_ms = now_ms + overlap_ms;
        for (Credential& c : record->credentials) {
          if (!c.works_at(now_ms)) continue;
          c.retires_ms = c.retires_ms == 0 ? retires_ms : std::min(c.retires_ms, retires_ms);
        }
        ChangeResult r;
        for (const auto& [shown, kept] : credentials) {
          r.issued.push_back(shown);
          record->credentials.push_back(kept);
        }
        prune_credentials(record->credentials, now_ms);
        write_tenant(txn, *record, false, now_ms);
        r.record = std::move(*record);
        return r;
      },
      std::move(done));
}

void Changes::note_use(const TenantEntry& entry, std::size_t index) {
  if (!directory_.note_use(entry, index)) return;
  std::shared_ptr<UseCounter> uses = entry.uses[index];
  const std::string id = entry.record.credentials[index].id;
  const Tenant tenant = entry.record.tenant;
  submit(
      [tenant, id](WriteTxn& txn, std::int64_t now_ms) {
        auto record = read_tenant(txn, tenant.key());
        if (!record) return failure(ChangeError::kNotFound, "no such tenant");
        auto used = std::find_if(record->credentials.begin(), record->credentials.end(),
                                 [&id](const Credential& c) { return c.id == id; });
        if (used != record->credentials.end() && used->first_used_ms == 0) {
          used->first_used_ms = now_ms;
          write_tenant(txn, *record, false, now_ms);
        }
        ChangeResult r;
        r.record = std::move(*record);
        return r;
      },
      [uses, tenant](const ChangeResult& r) {
        if (r.error == ChangeError::kNone) return;
        // Noted again by the next use.
        spdlog::warn("tenant {}: the first use of its new credential is not recorded: {}",
                     tenant.key(), r.detail);
        uses->first_use_noted.store(false, std::memory_order_relaxed);
      });
}

namespace {

// The config's credentials of `tenant` as stored credentials (source config), of the first kind
// `kind` issues: hashed, or sealed by `vault`.
std::vector<Credential> config_credentials(const ConfigTenant& tenant, const Kind& kind,
                                           const cards::Vault* vault, std::int64_t now_ms) {
  const CredentialKind first = kind.credential_kinds().front();
  std::vector<Credential> out;
  for (std::size_t i = 0; i < tenant.tokens.size(); ++i) {
    std::string id = "config-" + std::to_string(i + 1);
    std::string stored = kept_as(first.storage, vault, tenant.tenant, id, tenant.tokens[i]);
    out.push_back({.id = std::move(id),
                   .kind = std::string(first.name),
                   .storage = first.storage,
                   .stored = std::move(stored),
                   .created_ms = now_ms,
                   .retires_ms = 0,
                   .source = Source::kConfig});
  }
  return out;
}

// What the digest of config entry `in` is kept as: itself; or, when `kind` seals its credentials
// (a key payoutd signs with, which the config may give short), keyed by the vault, so that the
// store alone confirms no guess of the key. REQUIRES: refuse_without_vault is "".
std::string kept_digest(const Kind& kind, const cards::Vault* vault, const ConfigTenant& in) {
  if (kind.credential_kinds().front().storage == Storage::kHashed) return in.digest;
  return vault->code_mac("config:" + in.tenant.key(), in.digest);
}

// The config entry `in` over `record` (a new one when absent): its settings and its config
// credentials are the config's; the status and the credentials issued at run time stay.
ChangeResult write_config_tenant(WriteTxn& txn, const Kind& kind, const ConfigTenant& in,
                                 const cards::Vault* vault, std::int64_t now_ms) {
  auto record = read_tenant(txn, in.tenant.key());
  ChangeResult r;
  // Unchanged in the config: the stored settings stand (a PATCH may have changed them).
  std::string digest = kept_digest(kind, vault, in);
  bool unchanged = record && record->config_digest == digest;
  auto settings = decode_stored(kind, in.tenant, unchanged ? record->settings : in.settings);
  if (!settings && unchanged) {  // what the store keeps no longer decodes: the config's stands
    unchanged = false;
    settings = decode_stored(kind, in.tenant, in.settings);
  }
  if (!settings) return unreadable(in.tenant);
  // Every start, so that a config tenant written before names were kept takes its own.
  if (std::string taken = take_names(txn, kind, in.tenant, *settings); !taken.empty()) {
    return failure(ChangeError::kNameTaken, std::move(taken));
  }
  if (unchanged) return r;
  const bool inserted = !record;
  if (inserted) {
    record.emplace();
    record->tenant = in.tenant;
    record->source = Source::kConfig;
  }
  std::erase_if(record->credentials,
                [](const Credential& c) { return c.source == Source::kConfig; });
  for (Credential& c : config_credentials(in, kind, vault, now_ms)) {
    record->credentials.push_back(std::move(c));
  }
  record->settings = in.settings;
  record->config_digest = std::move(digest);
  // Accounts a config tenant had before keep what they were opened with (an edited display name
  // does not rename a funder): a refusal here is logged, not fatal.
  if (open_accounts(txn, in.tenant, kind.accounts(in.tenant, *settings), now_ms, r) !=
      ChangeError::kNone) {
    spdlog::warn("config tenant {}: {}: the account keeps its settings", in.tenant.key(), r.detail);
  }
  write_tenant(txn, *record, inserted, now_ms);
  r.record = std::move(*record);
  return r;
}

}  // namespace

std::string Changes::write_config_tenants(const std::vector<ConfigTenant>& tenants) {
  for (const ConfigTenant& in : tenants) {
    const Kind* kind = directory_.kind(in.tenant.provider);
    PAYOUTD_ASSERT(kind != nullptr, "a config tenant's provider has a tenant kind");
    if (std::string refused = refuse_without_vault(*kind, directory_.vault()); !refused.empty()) {
      return "tenant " + in.tenant.key() + ": " + refused;
    }
    std::promise<ChangeResult> promise;
    auto written = promise.get_future();
    const cards::Vault* vault = directory_.vault();
    submit(
        [kind, &in, vault](WriteTxn& txn, std::int64_t now_ms) {
          return write_config_tenant(txn, *kind, in, vault, now_ms);
        },
        [&promise](ChangeResult r) { promise.set_value(std::move(r)); });
    const ChangeResult r = written.get();
    if (r.error != ChangeError::kNone) return "tenant " + in.tenant.key() + ": " + r.detail;
  }
  return {};
}

}  // namespace payoutd::tenants
