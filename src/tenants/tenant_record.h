#pragma once
// A tenant as the tenant directory stores it: one store record (tenant "", kind kTenantRecord,
// key Tenant::key()) holding its provider and id, its status, its provider's settings (JSON, the
// provider's codec reads them: tenants/kind.h), its credentials (never in clear: hashed, or sealed
// by the vault), a revision counted per change, when it was created and last changed, and where
// it came from (the config, or the admin API at run time).
//
// Every record kind of the directory is listed here; all belong to no tenant (tenant ""), so
// one prefix scan reads every tenant of a provider.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tenant.h"

namespace payoutd::tenants {

// key Tenant::key() -> the tenant (to_json below).
inline constexpr std::string_view kTenantRecord = "tenant";
// key kRevisionKey -> the directory's revision, a decimal counter every change raises in the
// change's own transaction: what every node polls to learn that something changed.
inline constexpr std::string_view kRevisionRecord = "tenant-revision";
inline constexpr std::string_view kRevisionKey = "directory";
// key "<tenant key>/<credential id>" -> the uses of a retiring credential during its overlap, a
// decimal count summed over every node's flushes.
inline constexpr std::string_view kUsesRecord = "tenant-credential-uses";
// key "<provider>/<value>" -> the key of the tenant holding a value unique among its provider's
// tenants (Kind::unique_names: a Bereke partner's userName). Taken in the transaction that writes
// the tenant, so two nodes onboarding the same name at once cannot both commit.
inline constexpr std::string_view kNameRecord = "tenant-name";

// The most tenants the directory holds (all providers together): a snapshot reads them all.
inline constexpr std::size_t kTenantsMax = 100'000;

enum class Status : std::uint8_t {
  kActive,     // pays
  kSuspended,  // new payouts refused; reads, payouts in flight and callbacks go on
  kClosed,     // final: every credential refused, the id never used again
};
enum class Source : std::uint8_t { kConfig, kRuntime };
// How a credential is kept: a hash (it is only compared: QIWI tokens, Bereke passwords), or
// sealed by the vault (it must be used: ecommpay's signing keys).
enum class Storage : std::uint8_t { kHashed, kSealed };

std::string_view status_name(Status status);  // "active", "suspended", "closed"
std::optional<Status> parse_status(std::string_view name);
std::string_view source_name(Source source);  // "config", "runtime"

struct Credential {
  std::string id;    // "cred-…": names it to the operator, never secret
  std::string kind;  // the provider's name for it ("token")
  Storage storage = Storage::kHashed;
  std::string
      stored;  // kHashed: hex of credential_digest (tenants/credentials.h); kSealed: the vault's
  std::int64_t created_ms = 0;
  std::int64_t retires_ms = 0;  // 0: works until rotated; else refused from this time on
  Source source = Source::kRuntime;
  // A sealed credential issued by a rotation: when the tenant first used it while an older one
  // was in its overlap (0: not yet). Until then what payoutd signs for the tenant is signed with
  // the older one (signing_credential, tenants/snapshot.h).
  std::int64_t first_used_ms = 0;

  bool works_at(std::int64_t now_ms) const { return retires_ms == 0 || now_ms < retires_ms; }
  // Replaced by a newer one and working out its overlap: each use of it is counted.
  bool retiring() const { return retires_ms != 0; }
};

struct TenantRecord {
  Tenant tenant;
  Status status = Status::kActive;
  std::string settings = "{}";  // the provider's settings, as its codec writes them
  std::vector<Credential> credentials;
  std::int64_t revision = 0;  // 1 when created, +1 per change
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  Source source = Source::kRuntime;
  // A config tenant: the digest of its config entry when the config last wrote it ("" else),
  // keyed by the vault when its credentials are sealed (tenants/changes.cc kept_digest).
  std::string config_digest;
};

std::string to_json(const TenantRecord& record);
// nullopt when `text` is not a record to_json wrote (a bug or a damaged row: the caller logs it).
std::optional<TenantRecord> record_from_json(std::string_view text);

}  // namespace payoutd::tenants
