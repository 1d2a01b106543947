#include "tenants/snapshot.h"

#include <algorithm>

namespace payoutd::tenants {

Snapshot::Snapshot(std::int64_t revision, std::vector<std::shared_ptr<const TenantEntry>> entries)
    : revision_(revision), entries_(std::move(entries)) {
  std::sort(entries_.begin(), entries_.end(),
            [](const auto& a, const auto& b) { return a->record.tenant < b->record.tenant; });
  for (const auto& entry : entries_) {
    const Tenant& t = entry->record.tenant;
    by_tenant_[t.provider][t.id] = entry.get();
    const auto& credentials = entry->record.credentials;
    for (std::size_t i = 0; i < credentials.size(); ++i) {
      if (credentials[i].storage != Storage::kHashed) continue;
      if (auto digest = digest_from_hex(credentials[i].stored)) {
        by_digest_[*digest] = {entry.get(), i};
      }
    }
  }
}

const TenantEntry* Snapshot::find(std::string_view provider, std::string_view id) const {
  const auto p = by_tenant_.find(provider);
  if (p == by_tenant_.end()) return nullptr;
  const auto t = p->second.find(id);
  return t == p->second.end() ? nullptr : t->second;
}

std::optional<CredentialMatch> Snapshot::match(const Digest& digest) const {
  const auto found = by_digest_.find(digest);
  if (found == by_digest_.end()) return std::nullopt;
  return found->second;
}

}  // namespace payoutd::tenants
