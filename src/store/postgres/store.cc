#include "store/postgres/store.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "core/assert.h"
#include "store/postgres/schema.h"
#include "store/postgres/statements.h"
#include "store/postgres/write_txn.h"

namespace payoutd::store::postgres {

PgStore::PgStore(const PostgresOptions& options)
    : options_(options),
      commit_barrier_key_(std::to_string(randombytes_uniform(kCommitBarrierSlots))),
      readers_(options) {
  auto first = connect_waiting(options_);
  if (options_.read_only) {
    schema_version_ = read_schema_version(*first);
    readers_.release(std::move(first));
    return;
  }
  schema_version_ = migrate(*first, options_.schema_version_target);
  writer_ = std::move(first);
}

std::unique_ptr<WriteTxn> PgStore::begin() {
  PAYOUTD_ASSERT(!options_.read_only, "a read-only store has no write transactions");
  if (writer_ && !writer_->ok()) {
    // The batch that found it broken has logged why (the committer's failure line).
    spdlog::warn("PostgreSQL: the writing connection broke; opening a new one");
    writer_.reset();
  }
  if (!writer_) {
    if (Steady::now() < writer_retry_at_) {
      return std::make_unique<PgWriteTxn>(*this, nullptr, writer_failure_);
    }
    try {
      writer_ = std::make_unique<Connection>(options_);
      spdlog::info("reconnected to PostgreSQL");
      // The block of ids came from the server before; after a failover the new primary may not
      // have the nextval() that reserved it (a sequence's WAL is not flushed by itself), and could
      // hand it to another node: a new connection reserves a new block.
      next_row_id_ = row_id_end_ = 0;
    } catch (const PgError& e) {
      writer_failure_ = e.what();
      writer_retry_at_ = Steady::now() + std::chrono::milliseconds(options_.reconnect_backoff_ms);
      return std::make_unique<PgWriteTxn>(*this, nullptr, writer_failure_);
    }
  }
  return std::make_unique<PgWriteTxn>(*this, writer_.get(), std::string());
}

std::int64_t PgStore::next_row_id(Connection& c) {
  if (next_row_id_ == row_id_end_) {
    const Result r = c.query(kNextRowIdBlock);
    next_row_id_ = Row(r, 0).i64(0);
    row_id_end_ = next_row_id_ + kRowIdBlock;
  }
  return next_row_id_++;
}

}  // namespace payoutd::store::postgres

namespace payoutd::store {

std::unique_ptr<Store> open_postgres_store(const PostgresOptions& options) {
  return std::make_unique<postgres::PgStore>(options);
}

}  // namespace payoutd::store
