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
#include "console/console.h"
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
  LogOptions log;              // log_level, [log], PAYOUTD_LOG_FORMAT
  http::ServerOptions server;  // [server] and [server.tls]: the listeners, limits, deadlines
  // [server] plain_http_behind_proxy: outside the sandbox, a plain listener is allowed only when
  // a TLS-terminating proxy stands in front of it.
  bool plain_http_behind_proxy = false;
  // [server] public_url: the origin of every URL payoutd builds for others (formUrl, Payment
  // Page links, the sandbox's callback sink), without a trailing '/'. Empty: public_origin()'s
  // default. Outside the sandbox required, and https.
  std::string public_url;
  std::string data_dir = "var";
  std::string storage_backend = "sqlite";  // "sqlite" or "postgres"
  store::PostgresOptions postgres;         // storage.postgres_*; url set with backend postgres
  std::string node_id;                     // this node's name among several (default host:pid)
  engine::CommitterOptions committer;
  admin::Options admin;
  tenants::DirectoryOptions tenants;  // [tenants]: how often each node polls the directory
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
  console::Options console;      // [[admin.staff]], [console]: the staff's sign-in (console.h)
  // [metrics] listen: the Prometheus listener's address (metrics/exporter.h); without it, none.
  bool metrics = false;
  http::ServerOptions metrics_listen;
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

// --metrics-listen: the metrics listener at `listen` (turned on). Without it, a server started on
// any free port (`any_port`: --listen with port 0, as tests and benchmarks do) takes any free port
// for its metrics too, so that servers started side by side never contend for the configured one.
void override_metrics_listen(const std::string& listen, bool any_port, Config& config);

// "127.0.0.1:8080" -> host and port; throws on malformed input.
void parse_listen(const std::string& text, http::ServerOptions& server);

// --listen on the command line: a plain listener at `text` (parse_listen), refused outside the
// sandbox as [server] listen is (see refuse_plain_http). Throws std::runtime_error.
void override_listen(const std::string& text, Config& config);

// Outside the sandbox a plain listener serves only behind a TLS-terminating proxy: throws
// std::runtime_error naming server.plain_http_behind_proxy unless it is set. parse_config calls
// it; so does override_listen.
void refuse_plain_http(const Config& config);

// The public origin: [server] public_url, else the TLS listener's origin (https://HOST:PORT)
// when there is one, else the plain listener's (http://HOST:PORT). The ports are the bound
// ones (0 when that listener is absent).
std::string public_origin(const Config& config, std::uint16_t plain_port, std::uint16_t tls_port);

// scheme://HOST:PORT, brackets around an IPv6 host.
std::string origin_of(std::string_view scheme, const std::string& host, std::uint16_t port);

}  // namespace payoutd::app
