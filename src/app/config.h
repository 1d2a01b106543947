#pragma once
// The config file (TOML). Flags on the command line override it (see main.cc).
// config/sandbox.toml is the reference: every key is documented there.
#include <cstdint>
#include <string>
#include <vector>

#include "dialects/admin/admin.h"
#include "dialects/qiwi/qiwi.h"
#include "engine/committer.h"
#include "engine/provision.h"
#include "http/server.h"
#include "store/postgres_store.h"

namespace payoutd::app {

struct Config {
  bool sandbox = false;
  std::string log_level = "info";
  http::ServerOptions server;
  std::string data_dir = "var";
  std::string storage_backend = "sqlite";  // "sqlite" or "postgres"
  store::PostgresOptions postgres;         // storage.postgres_*; url set with backend postgres
  std::string node_id;                     // this node's name among several (default host:pid)
  engine::CommitterOptions committer;
  dialects::admin::Options admin;
  dialects::qiwi::Options qiwi;
  engine::ProvisionPlan provision;  // what an empty data directory starts with
};

// Throws std::runtime_error naming the file, the key and the problem.
Config load_config(const std::string& path);

// --postgres-url on the command line: the PostgreSQL backend at that URL.
void use_postgres(const std::string& url, Config& config);

// "127.0.0.1:8080" -> host and port; throws on malformed input.
void parse_listen(const std::string& text, http::ServerOptions& server);

}  // namespace payoutd::app
