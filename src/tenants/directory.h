#pragma once
// The tenant directory: every partner of every provider, as data (docs/admin.md ("Tenants (partners
// at run time)")). Each node keeps an immutable snapshot of it (tenants/snapshot.h) that the
// request path reads without a lock or an allocation, and refreshes it
//   (a) at once on the node that changed something (Changes runs its answers after the refresh),
//   (b) on every node, when the directory's revision record changed: polled every refresh_ms,
//   (c) synchronously, when a request names a tenant or presents a credential the snapshot does
//       not know, before the request is refused: a partner created through one node pays through
//       another at once. Rate-limited: one such refresh at a time per node (a read of the revision
//       record; the tenants only when it moved), and every miss waiting meanwhile takes the next
//       one's result instead of a read of its own; unknown tokens are throttled per address
//       before they get here (core/throttle.h).
// A suspension reaches the other nodes within refresh_ms; a closing is decided in its own
// transaction (tenants/changes.h) and needs no more.
//
// It also counts each use of a retiring credential (lock-free, per node), adds the counts to the
// store every flush_ms and at stop(), and exposes them as a metric.
//
// Life: built once the committer runs; load() reads the first snapshot (throws nothing; false when
// the store cannot be read); start() starts the refresh thread; stop() flushes and joins.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cards/vault.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "engine/committer.h"
#include "store/store.h"
#include "tenants/kind.h"
#include "tenants/snapshot.h"

namespace payoutd::tenants {

struct DirectoryOptions {
  std::int64_t refresh_ms = 200;  // [tenants] refresh_ms: the revision poll
  std::int64_t flush_ms = 5000;   // old-credential uses written to the store
};

// What a partner's credential is, once checked (Directory::authenticate).
struct Authentication {
  std::shared_ptr<const Snapshot> snapshot;  // keeps `tenant` alive
  // The tenant whose working credential it is (of the provider asked, not closed); nullptr: none.
  const TenantEntry* tenant = nullptr;
};

// A tenant found by its id (Directory::find).
struct Found {
  std::shared_ptr<const Snapshot> snapshot;  // keeps `tenant` alive
  const TenantEntry* tenant = nullptr;       // nullptr: none
};

class Directory {
 public:
  // `vault` (the caller's, open before load(); nullptr: none) opens sealed credentials into each
  // snapshot (TenantEntry::secrets).
  Directory(engine::Committer& committer, const store::Store& store, const Clock& clock,
            const std::vector<const Kind*>& kinds, DirectoryOptions options = {},
            const cards::Vault* vault = nullptr);
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  bool load();
  void start();
  void stop();  // idempotent

  // The current snapshot: one atomic load on the steady path (no lock, no allocation); any thread.
  std::shared_ptr<const Snapshot> snapshot() const;
  // The provider's Kind, or nullptr.
  const Kind* kind(std::string_view provider) const;

  // The tenant of `provider` whose working credential `secret` is (a retiring one's use is
  // counted), refreshing once on a miss; a closed tenant's credentials match nothing.
  Authentication authenticate(std::string_view provider, std::string_view secret);
  // The tenant (any status), refreshing once on a miss.
  Found find(std::string_view provider, std::string_view id);
  // The per-card limits of `tenant`'s settings (Kind::card_limits) in the current snapshot,
  // without a refresh; nullopt when the snapshot has no such tenant, its settings do not decode
  // or its kind gives none: the card engine then declines the payout (fail closed). What
  // the card engine reads when a payout reserves (engine::CardPayouts::set_limits_source): a
  // change shows on the node that made it at once, on the others within refresh_ms.
  std::optional<engine::CardLimits> card_limits(const Tenant& tenant) const;
  // Every tenant (any status) whose kind pays cards (Kind::pays_cards), after a refresh; nullopt
  // when the store could not be read.
  std::optional<std::vector<Tenant>> card_tenants();
  // A use of credential `index` of `entry` (one the provider checked itself, as a sealed key's
  // signature): counted when it is retiring. True when it is a sealed credential's first use
  // while an older one is in its overlap, not yet noted by this node: the caller records it
  // (Changes::note_use). Lock-free, no allocation.
  bool note_use(const TenantEntry& entry, std::size_t index);
  const cards::Vault* vault() const { return vault_; }

  // Reloads when the revision record moved; false when the store could not be read.
  bool refresh();
  // Runs `done` on the refresh thread once this node's snapshot has been reloaded (or the reload
  // failed): how a change's answer waits until the node that made it sees it.
  void after_refresh(std::function<void()> done);

  // Uses of credential `credential_id` of `tenant` during its overlap: the store's count (every
  // node's flushes) and this node's not yet flushed; -1 when the store could not be read.
  std::int64_t old_credential_uses(const Tenant& tenant, std::string_view credential_id) const;
  // payoutd_tenant_old_credential_uses_total{provider,tenant}: this node's uses since it started.
  void expose(metrics::Exposition& out) const;
  // Writes the counted uses into the store now; blocks until durable (tests, stop()).
  bool flush_uses();

 private:
  bool reload(std::int64_t revision);
  // (c): the snapshot after a refresh that started after this call did.
  std::shared_ptr<const Snapshot> refresh_on_miss();
  std::shared_ptr<const TenantEntry> build_entry(TenantRecord record, const Snapshot* previous);
  // A sealed credential's secret, opened by the vault; "" for a hashed one or when it cannot be.
  std::string open_sealed(const Tenant& tenant, const Credential& credential) const;
  void publish(std::shared_ptr<const Snapshot> next);
  void run();

  engine::Committer& committer_;
  const store::Store& store_;
  const Clock& clock_;
  std::map<std::string, const Kind*, std::less<>> kinds_;
  DirectoryOptions options_;
  const cards::Vault* vault_;

  mutable std::mutex snapshot_mutex_;  // current_ (the slow path of snapshot())
  std::shared_ptr<const Snapshot> current_;
  std::atomic<std::uint64_t> generation_{0};  // moves with every publish, process-unique

  mutable std::mutex reload_mutex_;                              // one reload at a time; counters_
  std::map<std::string, std::shared_ptr<UseCounter>> counters_;  // "<tenant key>/<credential id>"
  std::mutex miss_mutex_;                                        // one refresh on a miss at a time
  std::atomic<std::uint64_t> miss_refreshes_{0};  // refreshes on a miss started so far

  std::mutex thread_mutex_;  // everything below
  std::condition_variable wake_;
  std::vector<std::function<void()>> waiting_;  // after_refresh callbacks
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace payoutd::tenants
