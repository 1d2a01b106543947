#include "store/postgres/connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

namespace payoutd::store::postgres {
namespace {

using Steady = std::chrono::steady_clock;

// Between attempts to connect at start-up.
constexpr int kConnectRetryMs = 200;
// What a failed statement's message quotes of its SQL.
constexpr std::size_t kQuotedSqlChars = 60;

// Every session: commits wait for the log flush whatever the server's default, and no statement
// or lock wait outlives the request that caused it. Sequential scans are priced out: a plan made
// while a table is (nearly) empty finds a scan of it as cheap as a probe, and a prepared
// statement keeps its plan (every lookup has its index, see statements.h; audit's snapshot turns
// them back on for itself).
std::string session_settings(const PostgresOptions& o) {
  std::string sql =
      "SET enable_seqscan = off; SET synchronous_commit = on; "
      "SET statement_timeout = " +
      std::to_string(o.statement_timeout_ms) +
      "; SET lock_timeout = " + std::to_string(o.lock_timeout_ms) +
      "; SET idle_in_transaction_session_timeout = " +
      std::to_string(o.idle_in_transaction_timeout_ms) + ";";
  if (o.read_only) sql += " SET default_transaction_read_only = on;";
  return sql;
}

std::string trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

// The server's notices (its warning before it ends a session, say) go to the log, in the log's
// format, instead of libpq's default: a bare line on standard error.
void log_notice(void*, const char* message) { spdlog::warn("PostgreSQL: {}", trimmed(message)); }

}  // namespace

bool is_conflict(std::string_view sqlstate) {
  return sqlstate == "23505" || sqlstate == "40001" || sqlstate == "40P01";
}

bool needs_new_connection(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03" || sqlstate == "25006";
}

Connection::Connection(const PostgresOptions& o) : reply_timeout_ms_(o.reply_timeout_ms) {
  const std::string timeout = std::to_string(o.connect_timeout_s);
  // The URL comes last, so that whatever it sets wins over these defaults.
  const char* keys[] = {"connect_timeout",
                        "application_name",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "dbname",
                        nullptr};
  const char* values[] = {
      timeout.c_str(), o.application_name.c_str(), "1", "10", "5", "3", "15000", o.url.c_str(),
      nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("cannot connect to PostgreSQL: " + message, std::string(kConnectionLost));
  }
  PQsetNoticeProcessor(conn_, log_notice, nullptr);
  try {
    exec(session_settings(o).c_str());
  } catch (...) {
    PQfinish(conn_);
    throw;
  }
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::exec(const char* sql) {
  if (PQsendQuery(conn_, sql) != 1) throw lost("send");
  check(command_result(), sql);
}

Result Connection::query(std::string_view sql, const Params& params) {
  const std::string& name = prepared(sql);
  const auto values = params.pointers();
  if (PQsendQueryPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0) !=
      1) {
    throw lost("send");
  }
  Result r = command_result();
  check(r, sql);
  return r;
}

// A frozen server (a stopped process, a paused machine) keeps its TCP connections open and never
// answers; neither keepalives nor tcp_user_timeout notice it, and a blocking call would wait for
// as long as it stays frozen. So every wait for the server's reply has a deadline.
Result Connection::next_result() {
  const auto deadline = Steady::now() + std::chrono::milliseconds(reply_timeout_ms_);
  while (PQisBusy(conn_) == 1) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now()).count();
    if (left <= 0) {
      broken_ = true;
      throw PgError("PostgreSQL did not answer within " + std::to_string(reply_timeout_ms_) +
                        " ms (storage.postgres_reply_timeout_ms)",
                    kConnectionLost);
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) throw lost("poll");
    if (ready > 0 && PQconsumeInput(conn_) != 1) throw lost("read");
  }
  return Result(PQgetResult(conn_));
}

// Every result of the command sent (several for statements separated by semicolons), as PQexec
// gives them: the first failure, or else the last result.
Result Connection::command_result() {
  Result kept;
  bool failed = false;
  for (Result r = next_result(); r.raw(); r = next_result()) {
    if (failed) continue;
    const ExecStatusType status = PQresultStatus(r.raw());
    failed = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    kept = std::move(r);
  }
  if (!kept.raw() && !ok()) throw lost("result");
  return kept;
}

std::vector<Result> Connection::pipeline(const std::vector<Step>& steps) {
  for (const Step& s : steps) prepared(s.sql);
  if (PQenterPipelineMode(conn_) != 1) throw lost("cannot enter pipeline mode");
  send_pipeline(steps);
  std::vector<Result> results(steps.size());
  std::optional<PgError> failure = receive_pipeline(steps, results);
  if (PQexitPipelineMode(conn_) != 1) throw lost("cannot leave pipeline mode");
  if (failure) throw PgError(*failure);
  return results;
}

void Connection::send_pipeline(const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    const auto values = s.params.pointers();
    if (PQsendQueryPrepared(conn_, prepared(s.sql).c_str(), s.params.size(), values.data(), nullptr,
                            nullptr, 0) != 1) {
      throw lost("send");
    }
  }
  if (PQpipelineSync(conn_) != 1) throw lost("sync");
}

// Reads every step's results into `results`, up to the pipeline's sync; returns the first
// failure, if any.
std::optional<PgError> Connection::receive_pipeline(const std::vector<Step>& steps,
                                                    std::vector<Result>& results) {
  std::optional<PgError> failure;
  std::size_t index = 0;
  for (;;) {
    Result r = next_result();
    if (!r.raw()) {
      // The end of one step's results.
      if (!ok() || index >= steps.size()) throw lost("pipeline");
      ++index;
      continue;
    }
    const ExecStatusType status = PQresultStatus(r.raw());
    if (status == PGRES_PIPELINE_SYNC) break;
    if (index >= steps.size()) throw lost("pipeline");
    if (status == PGRES_FATAL_ERROR && !failure) {
      failure = error_of(r, steps[index].sql);
    } else if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      results[index] = std::move(r);
    }
  }
  return failure;
}

const std::string& Connection::prepared(std::string_view sql) {
  auto it = names_.find(sql);
  if (it != names_.end()) return it->second;
  std::string name = "s" + std::to_string(names_.size());
  const std::string text(sql);
  if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) != 1) throw lost("send");
  check(command_result(), sql);
  return names_.emplace(text, std::move(name)).first->second;
}

PgError Connection::lost(const char* what) const {
  broken_ = true;
  return PgError(
      std::string("PostgreSQL connection lost (") + what + "): " + trimmed(PQerrorMessage(conn_)),
      std::string(kConnectionLost));
}

PgError Connection::error_of(const Result& r, std::string_view sql) const {
  const char* state = r.raw() ? PQresultErrorField(r.raw(), PG_DIAG_SQLSTATE) : nullptr;
  std::string message = trimmed(r.raw() ? PQresultErrorMessage(r.raw()) : PQerrorMessage(conn_));
  if (message.empty()) message = trimmed(PQerrorMessage(conn_));
  const std::string_view head = sql.substr(0, std::min(sql.size(), kQuotedSqlChars));
  message.append(" (in ").append(head).append("...)");
  if (state && !needs_new_connection(state)) return PgError(message, state);
  // The owner replaces this connection (ok() is false) and, as for a lost one, tries again.
  broken_ = true;
  return PgError(message, kConnectionLost);
}

void Connection::check(const Result& r, std::string_view sql) const {
  const ExecStatusType status = r.raw() ? PQresultStatus(r.raw()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) throw error_of(r, sql);
}

std::unique_ptr<Connection> connect_waiting(const PostgresOptions& options) {
  const auto deadline = Steady::now() + std::chrono::seconds(options.startup_wait_s);
  for (int attempt = 1;; ++attempt) {
    try {
      return std::make_unique<Connection>(options);
    } catch (const PgError& e) {
      if (Steady::now() >= deadline) throw std::runtime_error(e.what());
      if (attempt == 1) spdlog::warn("{}; retrying for {} s", e.what(), options.startup_wait_s);
      std::this_thread::sleep_for(std::chrono::milliseconds(kConnectRetryMs));
    }
  }
}

}  // namespace payoutd::store::postgres
