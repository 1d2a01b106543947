#pragma once
// The committed accounts of a SQLite database, in memory. The committer is the database's only
// writer, so its batches find their accounts here instead of reading them; an account is
// published here only after the COMMIT that wrote it. Writer thread only.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/rows.h"

namespace payoutd::store::sqlite {

class AccountCache {
 public:
  const Account* find(std::int64_t id) const {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : &it->second;
  }
  // By account_key(tenant, kind, code).
  std::optional<std::int64_t> id_of(const std::string& key) const {
    auto it = ids_.find(key);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  // By account_key(tenant, kind, owner).
  std::vector<std::int64_t> ids_of_owner(const std::string& key) const {
    auto it = owner_ids_.find(key);
    return it == owner_ids_.end() ? std::vector<std::int64_t>{} : it->second;
  }
  void publish(const Account& a) {
    const bool is_new = accounts_.find(a.id) == accounts_.end();
    accounts_[a.id] = a;
    if (!is_new) return;
    ids_[account_key(a.tenant, a.kind, a.code)] = a.id;
    owner_ids_[account_key(a.tenant, a.kind, a.owner)].push_back(a.id);
  }

 private:
  std::unordered_map<std::int64_t, Account> accounts_;
  std::unordered_map<std::string, std::int64_t> ids_;
  std::unordered_map<std::string, std::vector<std::int64_t>> owner_ids_;
};

}  // namespace payoutd::store::sqlite
