#pragma once
// A connection to PostgreSQL: connecting (libpq's keepalives and timeouts, the session's
// settings), prepared statements (prepared on first use, per connection), and pipelines that send
// several statements in one round trip. Every wait for a reply has a deadline (reply_timeout_ms:
// then the connection is broken, kConnectionLost). Failures throw PgError with the statement's
// SQLSTATE.
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/postgres/values.h"
#include "store/postgres_store.h"

namespace payoutd::store::postgres {

// The SQLSTATE of a lost connection; also what a failure without a SQLSTATE counts as, and what
// every failure that needs_new_connection() names is reported as.
inline constexpr std::string_view kConnectionLost = "08006";

// Failures after which this connection is of no more use while a new one, to whichever server
// is the primary now, may succeed: the connection broken (class 08), the server shutting down or
// not yet accepting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), and a
// write refused by a server that is, or has just become, a standby (25006
// read_only_sql_transaction: a primary demoted by a failover, reached by an old connection).
bool needs_new_connection(std::string_view sqlstate);

struct PgError : StorageError {
  PgError(const std::string& message, std::string_view state) : StorageError(message) {
    state.copy(state_.data(), std::min(state.size(), state_.size() - 1));
  }
  // The SQLSTATE: five characters, kept in place so that the exception copies without
  // allocating (an exception must not throw while it is copied).
  std::string_view sqlstate() const { return state_.data(); }

 private:
  std::array<char, 6> state_{};
};

// Statement failures that mean another writer got in the way: a unique index taken by a
// concurrent insert, a serialization failure (serializable databases), a deadlock.
bool is_conflict(std::string_view sqlstate);

class Connection {
 public:
  // Connects and applies the session settings; throws PgError (kConnectionLost) when the
  // database cannot be reached.
  explicit Connection(const PostgresOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // False once the server is gone or a round trip broke off half-way: the owner replaces it.
  bool ok() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

  // A statement without parameters, or several separated by semicolons.
  void exec(const char* sql);

  // A prepared statement (prepared on first use on this connection).
  Result query(std::string_view sql, const Params& params = {});

  struct Step {
    std::string_view sql;
    Params params;
  };
  // Sends every step in one round trip and returns their results, in order. Throws the first
  // failure; the steps after it did not run.
  std::vector<Result> pipeline(const std::vector<Step>& steps);

 private:
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };

  // The next result of what was sent, waiting at most reply_timeout_ms for it; null after the
  // last of a command's (or a pipeline step's) results.
  Result next_result();
  // Every result of one command sent: the first failure, or else the last result.
  Result command_result();
  const std::string& prepared(std::string_view sql);
  void send_pipeline(const std::vector<Step>& steps);
  std::optional<PgError> receive_pipeline(const std::vector<Step>& steps,
                                          std::vector<Result>& results);
  PgError lost(const char* what) const;
  PgError error_of(const Result& r, std::string_view sql) const;
  void check(const Result& r, std::string_view sql) const;

  PGconn* conn_ = nullptr;
  int reply_timeout_ms_;
  mutable bool broken_ = false;
  std::unordered_map<std::string, std::string, SqlHash, std::equal_to<>> names_;
};

// Connects, retrying for up to options.startup_wait_s while the database does not accept
// connections yet (it is starting, or failing over). Throws std::runtime_error after that.
std::unique_ptr<Connection> connect_waiting(const PostgresOptions& options);

}  // namespace payoutd::store::postgres
