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
};

struct TenantEntry {
  TenantRecord record;
  // Its provider's reading of record.settings; nullptr when no provider of this build knows the
  // tenant's provider, or its settings no longer decode (logged when built).
  std::shared_ptr<const Settings> settings;
  std::vector<std::shared_ptr<UseCounter>> uses;  // one per record.credentials, same order
};

struct CredentialMatch {
  const TenantEntry* entry = nullptr;
  std::size_t index = 0;  // of its credential in entry->record.credentials
  const Credential& credential() const { return entry->record.credentials[index]; }
};

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
