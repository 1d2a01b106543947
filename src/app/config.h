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

namespace payoutd::app {

struct Config {
  bool sandbox = false;
  std::string log_level = "info";
  http::ServerOptions server;
  std::string data_dir = "var";
  std::string storage_backend = "sqlite";
  engine::CommitterOptions committer;
  dialects::admin::Options admin;
  dialects::qiwi::Options qiwi;
  engine::ProvisionPlan provision;  // what an empty data directory starts with
};

// Throws std::runtime_error naming the file, the key and the problem.
Config load_config(const std::string& path);

// "127.0.0.1:8080" -> host and port; throws on malformed input.
void parse_listen(const std::string& text, http::ServerOptions& server);

}  // namespace payoutd::app
