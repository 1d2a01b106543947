#pragma once
// PostgreSQL store: several payoutd nodes on one database (and its streaming replicas for
// failover). A batch is one transaction: it locks the accounts its jobs declared, in id order,
// in the same round trip as it reads the declared partner ids, decides everything in memory, and
// sends its writes as a few multi-row statements pipelined with COMMIT. COMMIT returns once the
// write-ahead log is flushed (synchronous_commit is forced on for every session), so sync() has
// nothing left to do. Two nodes inserting one partner id, or deadlocking on something a job did
// not declare, end in a conflict status: the batch is rolled back and the committer runs it
// again, when it sees the other node's rows.
//
// When the database is unreachable, every batch and read fails at once with an error (the
// dialects answer their retryable error); the writer reconnects on the next batch after
// `reconnect_backoff_ms`, readers on their next request.
#include <memory>
#include <string>

#include "store/store.h"

namespace payoutd::store {

struct PostgresOptions {
  std::string url;  // libpq URI or key=value string; its settings win
  std::string application_name = "payoutd";
  int read_connections_max = 8;  // the pool for reads; the committer has one of its own
  int pool_wait_ms = 1000;       // a read waits this long for a free connection
  int connect_timeout_s = 3;
  int statement_timeout_ms = 10000;
  int lock_timeout_ms = 5000;  // waiting for another node's batch to release an account
  // The longest wait for any reply of the server, COMMIT's included (a COMMIT waits for the
  // synchronous standby without a statement timeout): a server that stops answering (frozen, not
  // dead) breaks the connection after this, and the batch's outcome is unknown. Above
  // statement_timeout_ms, so that the server's own timeout ends a slow statement first.
  int reply_timeout_ms = 15000;
  // A session that sits in a transaction this long (a frozen node) is ended by the server, so
  // its locks do not hold the other nodes up.
  int idle_in_transaction_timeout_ms = 30000;
  int reconnect_backoff_ms = 250;  // after a failed connect, batches fail at once this long
  int startup_wait_s = 30;         // opening waits this long for the database to accept us
  bool read_only = false;          // audit: no migrations, no writes
  int schema_version_target = 0;   // migrate to this version (0: the newest); tests only
};

// Why `url` may not be used outside the sandbox, or "" when it may: a connection to another
// machine must be TLS with the server's certificate and name verified (sslmode=verify-full);
// one that stays on this machine (Unix sockets, localhost, loopback addresses) need not be. The
// reason never quotes the URL (it may hold a password).
std::string postgres_url_refusal(const std::string& url);

// Connects (waiting up to startup_wait_s), migrates, and returns the store. Throws
// std::runtime_error on failure: start-up is the one place where exceptions are used.
std::unique_ptr<Store> open_postgres_store(const PostgresOptions& options);

}  // namespace payoutd::store
