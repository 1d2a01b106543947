#pragma once
// The PostgreSQL store's read connections: at most read_connections_max, shared by every reading
// thread. A read waits up to pool_wait_ms for a free one, then fails. Idle connections do not
// notice that the server restarted until they are used: when one turns out dead, every idle one
// is dropped (they share its fate) and the read runs once more on a new connection.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "store/pool_lease.h"
#include "store/postgres/connection.h"

namespace payoutd::store::postgres {

class ReaderPool {
 public:
  explicit ReaderPool(const PostgresOptions& options) : options_(options) {}

  // Runs `f` on a pooled connection (see above for a dead one). Throws what `f` throws, or
  // StorageError when no connection is free in time.
  template <typename F>
  auto with_reader(F&& f) -> decltype(f(std::declval<Connection&>())) {
    for (int attempt = 0;; ++attempt) {
      Lease c = acquire(attempt == 0 ? Pick::kIdleFirst : Pick::kNew);
      try {
        return f(*c);
      } catch (const PgError& e) {
        if (e.sqlstate() != kConnectionLost || attempt > 0) throw;
        drop_idle();
      }
    }
  }

  // One prepared statement on a pooled connection.
  Result read(std::string_view sql, const Params& params) {
    return with_reader([&](Connection& c) { return c.query(sql, params); });
  }

  // Takes a connection back (or one opened elsewhere) as an idle one, if it is still healthy.
  void release(std::unique_ptr<Connection> c);

  // The reads that waited for a connection, since the pool was made (Store::pool_stats).
  PoolStats stats() const;

 private:
  using Lease = PoolLease<ReaderPool, Connection>;
  enum class Pick : std::uint8_t { kIdleFirst, kNew };
  Lease acquire(Pick pick);
  void drop_idle();

  const PostgresOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable free_;
  PoolStats stats_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // read connections in existence (idle or leased)
};

}  // namespace payoutd::store::postgres
