#pragma once
// A connection taken from a pool of one of the backends, given back to the pool when the lease
// ends (Pool::release decides whether the pool keeps it).
#include <memory>
#include <utility>

namespace payoutd::store {

template <typename Pool, typename Connection>
class PoolLease {
 public:
  PoolLease(Pool& pool, std::unique_ptr<Connection> c) : pool_(pool), connection_(std::move(c)) {}
  ~PoolLease() { pool_.release(std::move(connection_)); }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  Connection* operator->() { return connection_.get(); }
  Connection& operator*() { return *connection_; }

 private:
  Pool& pool_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace payoutd::store
