#pragma once
// The config file (TOML). Flags on the command line override it (see main.cc).
// config/sandbox.toml is the reference: every key is documented there.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api.h"
#include "app/log_format.h"
#include "cabinet/auth.h"
#include "cabinet/pages.h"
#include "engine/cards/order.h"
#include "engine/committer.h"
#include "engine/provision.h"
#include "http/server.h"
#include "outbox/http_transport.h"
#include "outbox/mail_transport.h"
#include "providers/provider.h"
#include "rails/bereke_upstream.h"
#include "rails/mastercard_send.h"
#include "rails/routing.h"
#include "rails/sandbox_rail.h"
#include "rails/visa_direct.h"
#include "store/postgres_store.h"

namespace payoutd::app {

// A card rail of the config (rails_config.h).
struct RailConfig {
  std::string name;
  std::string kind;                         // "sandbox", "mastercard-send", "visa-direct", "bereke"
  rails::SandboxRailOptions sandbox;        // kind "sandbox" (its path: set at start)
  rails::MastercardSendOptions mastercard;  // kind "mastercard-send"
  rails::VisaDirectOptions visa;            // kind "visa-direct"
  rails::BerekeUpstreamOptions bereke;      // kind "bereke": an upstream Payouts Module

  // How long the rail's connector waits for an answer.
  std::int64_t timeout_ms() const {
    if (kind == "mastercard-send") return mastercard.timeout_ms;
    if (kind == "visa-direct") return visa.timeout_ms;
    if (kind == "bereke") return bereke.timeout_ms;
    return sandbox.timeout_ms;
  }
};

struct Config {
  bool sandbox = false;
  LogOptions log;  // log_level, [log], PAYOUTD_LOG_FORMAT
  http::ServerOptions server;
  std::string data_dir = "var";
  std::string storage_backend = "sqlite";  // "sqlite" or "postgres"
  store::PostgresOptions postgres;         // storage.postgres_*; url set with backend postgres
  std::string node_id;                     // this node's name among several (default host:pid)
  engine::CommitterOptions committer;
  admin::Options admin;
  // Every provider with its section of the config, in the registry's order.
  std::vector<std::shared_ptr<providers::Provider>> providers;
  outbox::HttpTransportOptions callbacks;  // outbox.*: how callbacks are sent
  outbox::DispatcherOptions dispatch;      // outbox.*: when they are retried, how many at once
  outbox::MailTransportOptions mail;  // mail.*: SMTP, or the sink (mail/ in the data directory)
  outbox::SmsTransportOptions
      sms;  // sms.*: an SMS gateway, or the sink (sms/ in the data directory)
  outbox::HttpTransportOptions sms_gateway;  // sms.* and outbox.*: the SMS gateway's own lane
  std::string bin_table;          // cards.bin_table, resolved against the config's directory
  std::string vault_kek;          // vault.kek, or the environment's PAYOUTD_VAULT_KEK
  std::vector<RailConfig> rails;  // [rail] and [[rails]]: the card rails, by name
  rails::Routing routing;         // [routing]: which rail a card payout takes
  engine::CardEngineOptions card_engine;
  ThrottleOptions throttle;      // throttle.*: wrong credentials, for every dialect
  cabinet::AuthOptions cabinet;  // cabinet.*: the partner cabinet's users, its checks, sessions
};

// Throws std::runtime_error naming the file, the key and the problem.
Config load_config(const std::string& path);
// The config in `text`, as if read from `path` (relative paths in it are resolved against the
// directory of `path`, and errors name it). Reads no file. Throws as load_config.
Config parse_config(std::string_view text, const std::string& path);

// For `serve`, after the command line's overrides: sets server.connections_max, when the config
// leaves it out, to what the descriptor limit (RLIMIT_NOFILE) leaves beside the descriptors the
// server needs itself (its store, outbox, I/O threads and files). Throws std::runtime_error
// naming server.connections_max when a configured value, or any value, does not fit.
void fit_connections_to_descriptors(Config& config);

// --postgres-url on the command line: the PostgreSQL backend at that URL.
void use_postgres(const std::string& url, Config& config);

// "127.0.0.1:8080" -> host and port; throws on malformed input.
void parse_listen(const std::string& text, http::ServerOptions& server);

}  // namespace payoutd::app
