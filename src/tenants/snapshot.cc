#include "tenants/snapshot.h"

#include <sodium.h>

#include <algorithm>

namespace payoutd::tenants {

TenantEntry::~TenantEntry() {
  for (std::string& secret : secrets) sodium_memzero(secret.data(), secret.size());
}

std::optional<std::size_t> signing_credential(const TenantEntry& entry, std::int64_t now_ms) {
  const auto& credentials = entry.record.credentials;
  std::optional<std::size_t> newest, older;  // working ones, newest first
  std::optional<std::size_t> last;           // any, for a closed tenant
  for (std::size_t i = credentials.size(); i-- > 0;) {
    const Credential& c = credentials[i];
    if (c.storage != Storage::kSealed || entry.secrets[i].empty()) continue;
    if (!last) last = i;
    if (!c.works_at(now_ms) || entry.record.status == Status::kClosed) continue;
    if (!newest) {
      newest = i;
    } else if (!older && c.retiring()) {
      older = i;
    }
  }
  if (entry.record.status == Status::kClosed) return last;
  if (newest && older && !credentials[*newest].retiring() &&
      credentials[*newest].first_used_ms == 0) {
    return older;
  }
  return newest;
}

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
