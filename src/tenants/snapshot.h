#pragma once
// An immutable view of every tenant at one revision of the directory: what the request path reads
// (tenants/directory.h hands it out). Built once per change, off the request path; its lookups
// neither lock nor allocate.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tenants/credentials.h"
#include "tenants/kind.h"
#include "tenants/tenant_record.h"

namespace payoutd::tenants {

// Uses of one retiring credential on this node (lock-free: counted on the request path).
struct UseCounter {
  std::atomic<std::int64_t> unflushed{0};  // not yet added to the store's count
  std::atomic<std::int64_t> counted{0};    // since this process started: the metric
  // A new sealed credential's first use during an overlap is being recorded (Changes::note_use):
  // once per node, not once per request.
  std::atomic<bool> first_use_noted{false};
};

struct TenantEntry {
  TenantEntry() = default;
  TenantEntry(const TenantEntry&) = delete;
  TenantEntry& operator=(const TenantEntry&) = delete;
  ~TenantEntry();  // wipes `secrets`

  TenantRecord record;
  // Its provider's reading of record.settings; nullptr when no provider of this build knows the
  // tenant's provider, or its settings no longer decode (logged when built).
  std::shared_ptr<const Settings> settings;
  std::vector<std::shared_ptr<UseCounter>> uses;  // one per record.credentials, same order
  // One per record.credentials, same order: a sealed credential opened by the vault (what the
  // provider signs and verifies with); empty for a hashed one, or when the vault is closed or
  // does not open it (logged when built).
  std::vector<std::string> secrets;
};

struct CredentialMatch {
  const TenantEntry* entry = nullptr;
  std::size_t index = 0;  // of its credential in entry->record.credentials
  const Credential& credential() const { return entry->record.credentials[index]; }
};

// The newest working sealed credential of `entry` (one the vault opened) that `accepts` (a
// callable taking the secret, e.g. a signature check), newest first; nullopt when none does or the
// tenant is closed. No allocation.
template <typename Accepts>
std::optional<std::size_t> find_sealed(const TenantEntry& entry, std::int64_t now_ms,
                                       Accepts&& accepts) {
  if (entry.record.status == Status::kClosed) return std::nullopt;
  const auto& credentials = entry.record.credentials;
  for (std::size_t i = credentials.size(); i-- > 0;) {
    if (credentials[i].storage != Storage::kSealed || !credentials[i].works_at(now_ms)) continue;
    if (!entry.secrets[i].empty() && accepts(std::string_view(entry.secrets[i]))) return i;
  }
  return std::nullopt;
}

// The sealed credential that signs what payoutd sends the tenant (ecommpay's callbacks) at
// `now_ms` (docs/admin.md, "Credentials"): its newest working one; but while older ones are in
// their overlap and the tenant has not yet used the newest (Credential::first_used_ms), the newest
// of those older ones, so that a partner that has not switched still verifies what it gets and
// one that has switched has said so by signing with the new key. A closed tenant's newest (the
// callbacks of its last payouts). nullopt when it has none the vault opened.
std::optional<std::size_t> signing_credential(const TenantEntry& entry, std::int64_t now_ms);

class Snapshot {
 public:
  Snapshot() = default;
  // `entries` in any order; each credential digest of a hashed credential is indexed.
  Snapshot(std::int64_t revision, std::vector<std::shared_ptr<const TenantEntry>> entries);

  std::int64_t revision() const { return revision_; }
  // The tenant, whatever its status; nullptr when there is none.
  const TenantEntry* find(std::string_view provider, std::string_view id) const;
  // The hashed credential with this digest, of any tenant and status, working or not.
  std::optional<CredentialMatch> match(const Digest& digest) const;
  // Every tenant, in (provider, id) order.
  const std::vector<std::shared_ptr<const TenantEntry>>& entries() const { return entries_; }

 private:
  std::int64_t revision_ = 0;
  std::vector<std::shared_ptr<const TenantEntry>> entries_;
  std::map<std::string, std::map<std::string, const TenantEntry*, std::less<>>, std::less<>>
      by_tenant_;
  std::unordered_map<Digest, CredentialMatch, DigestHash> by_digest_;
};

}  // namespace payoutd::tenants
