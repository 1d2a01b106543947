// payoutd: the payout gateway. Wiring only: config, store, engines, outbox, providers, cabinet,
// admin API, HTTP server.
#include <spdlog/spdlog.h>

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "admin/api.h"
#include "app/access_log.h"
#include "app/config.h"
#include "app/rail_factory.h"
#include "app/readiness.h"
#include "cabinet/pages.h"
#include "cards/vault.h"
#include "console/cabinet_users_api.h"
#include "console/console.h"
#include "core/files.h"
#include "engine/audit.h"
#include "engine/cards/card_payouts.h"
#include "engine/committer.h"
#include "engine/operator_log.h"
#include "engine/payouts.h"
#include "engine/provision.h"
#include "http/server.h"
#include "metrics/exporter.h"
#include "outbox/dispatcher.h"
#include "outbox/http_transport.h"
#include "outbox/mail_transport.h"
#include "providers/provider.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "web/assets.h"
#include "web/error_envelope.h"

namespace payoutd::app {
namespace {

constexpr const char* kDatabaseFile = "payoutd.db";

std::string database_path(const Config& config) {
  return (std::filesystem::path(config.data_dir) / kDatabaseFile).string();
}

enum class Access : std::uint8_t { kServe, kMigrate, kAudit };

// The configured store, migrated to the newest schema unless opened for audit. Only a server
// waits for a database that is not up yet; an operator's command answers at once.
std::unique_ptr<store::Store> open_store(const Config& config, Access access) {
  const bool read_only = access == Access::kAudit;
  if (config.storage_backend == "postgres") {
    store::PostgresOptions options = config.postgres;
    options.read_only = read_only;
    if (access != Access::kServe) options.startup_wait_s = 0;
    return store::open_postgres_store(options);
  }
  if (read_only) {
    if (!std::filesystem::exists(database_path(config))) {
      throw std::runtime_error("no database at " + database_path(config));
    }
  } else {
    make_private_directory(config.data_dir);
  }
  return store::open_sqlite_store({.path = database_path(config), .read_only = read_only});
}

std::string node_id(const Config& config) {
  if (!config.node_id.empty()) return config.node_id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

// The operators' audit log's MAC key: derived from the vault's key-encryption key, so that only
// who holds it can write an entry that verifies; unkeyed without one (engine/operator_log.h).
engine::AuditKey operator_audit_key(const std::optional<cards::Key>& kek) {
  return kek ? engine::AuditKey::from_kek(*kek) : engine::AuditKey{};
}

bool pays_cards(const Config& config) {
  for (const auto& provider : config.providers) {
    if (provider->pays_cards()) return true;
  }
  return false;
}

// Hands each request to the provider whose path prefix it has.
class Router {
 public:
  explicit Router(const Config& config) {
    for (const auto& provider : config.providers) {
      for (std::string_view prefix : provider->path_prefixes())
        routes_.push_back({prefix, provider.get()});
    }
  }
  bool handle(http::Request& request, const http::Responder& respond) const {
    const std::string_view path = request.path();
    for (const auto& [prefix, provider] : routes_) {
      if (path.starts_with(prefix) && provider->handle(request, respond)) return true;
    }
    return false;
  }

 private:
  std::vector<std::pair<std::string_view, providers::Provider*>> routes_;
};

// The vault's key-encryption key; throws when it is missing, malformed, or a sandbox key outside
// the sandbox.
// A node without card dialects (no Bereke partner) runs without one: its vault stays closed.
std::optional<cards::Key> vault_key(const Config& config) {
  if (config.vault_kek.empty()) {
    if (!pays_cards(config)) return std::nullopt;
    throw std::runtime_error(
        "vault.kek (or PAYOUTD_VAULT_KEK) is required with card payouts: 64 hex digits");
  }
  auto kek = cards::parse_key_encryption_key(config.vault_kek);
  if (!kek) throw std::runtime_error("vault.kek must be 64 hex digits");
  if (kek->sandbox_only && !config.sandbox) {
    throw std::runtime_error("vault.kek is the published sandbox key: refused outside the sandbox");
  }
  return kek->key;
}

// Mail goes out by SMTP, or in the sandbox without one into the data directory's mail/.
outbox::MailTransportOptions mail_options(const Config& config) {
  outbox::MailTransportOptions options = config.mail;
  options.sink_dir = (std::filesystem::path(config.data_dir) / "mail").string();
  if (config.sandbox && options.smtp_url.empty()) make_private_directory(options.sink_dir);
  return options;
}

// SMS go out through a gateway, or in the sandbox without one into the data directory's sms/.
outbox::SmsTransportOptions sms_options(const Config& config) {
  outbox::SmsTransportOptions options = config.sms;
  options.sink_dir = (std::filesystem::path(config.data_dir) / "sms").string();
  if (config.sandbox && options.gateway_url.empty()) make_private_directory(options.sink_dir);
  return options;
}

// The outbox's transports: partners' callbacks over HTTP, mail, SMS through the gateway's own
// lane; `routing` hands each message to the one its target's scheme names.
struct Transports {
  explicit Transports(const Config& config)
      : web(config.callbacks),
        mail(mail_options(config)),
        sms_gateway(config.sms_gateway),
        sms(sms_options(config), sms_gateway),
        routing(web, mail, sms) {}

  outbox::HttpTransport web;
  outbox::MailTransport mail;
  outbox::HttpTransport sms_gateway;
  outbox::SmsTransport sms;
  outbox::RoutingTransport routing;
};

// Opens the vault when it has a key, and provisions an empty database from every provider's
// plan. Returns what failed, or an empty string.
std::string prepare(const Config& config, bool vault_has_key, engine::PayoutEngine& engine,
                    engine::CardPayouts& cards) {
  if (const std::string failure = vault_has_key ? cards.open_vault() : std::string();
      !failure.empty()) {
    return "vault: " + failure;
  }
  for (const auto& provider : config.providers) {
    if (const std::string failure =
            engine::provision_if_empty(engine, &cards, provider->provision());
        !failure.empty()) {
      return "provisioning failed: " + failure;
    }
  }
  return {};
}

// The tenant kinds of the providers that have one (providers::Provider::tenant_kind).
std::vector<const tenants::Kind*> tenant_kinds(const Config& config) {
  std::vector<const tenants::Kind*> kinds;
  for (const auto& provider : config.providers) {
    if (const tenants::Kind* kind = provider->tenant_kind()) kinds.push_back(kind);
  }
  return kinds;
}

// Reads the tenant directory, starts its refresh, and writes the config's tenants into it (those
// absent, or whose config entry changed). Returns what failed, or an empty string.
std::string open_tenants(const Config& config, tenants::Directory& directory,
                         tenants::Changes& changes) {
  if (!directory.load()) return "tenants: cannot read the store";
  directory.start();
  for (const auto& provider : config.providers) {
    if (!provider->tenant_kind()) continue;
    if (const std::string failure = changes.write_config_tenants(provider->config_tenants());
        !failure.empty()) {
      return "tenants: " + failure;
    }
  }
  return {};
}

// The cabinet's options, with each tenant's state read from the directory's snapshot (a tenant
// of a provider without a directory is active).
cabinet::AuthOptions cabinet_options(const Config& config, const tenants::Directory& directory) {
  cabinet::AuthOptions options = config.cabinet;
  options.tenant_state = [&directory](const Tenant& tenant) {
    const auto snapshot = directory.snapshot();
    const tenants::TenantEntry* entry = snapshot->find(tenant.provider, tenant.id);
    const tenants::Status status = entry ? entry->record.status : tenants::Status::kActive;
    return status == tenants::Status::kActive      ? cabinet::TenantState::kActive
           : status == tenants::Status::kSuspended ? cabinet::TenantState::kSuspended
                                                   : cabinet::TenantState::kClosed;
  };
  return options;
}

// A login of [[cabinet.users]] that a cabinet user created at run time holds too (the config
// changed since): what to refuse to start with, or an empty string.
std::string cabinet_conflict(cabinet::Auth& auth) {
  const auto login = auth.users().config_conflict();
  if (!login.ok()) return "cabinet: cannot read the store";
  if (login->empty()) return {};
  return "cabinet.users: login " + *login +
         " is also a cabinet user created through the admin API: rename one of them";
}

// The server's one handler: /healthz, /readyz, the providers by path prefix, the cabinet, the
// assets, the admin API; anything else payoutd's own 404 (or the HTTP layer's refusal of a request
// it could not read whole).
void answer_request(http::Request& request, const http::Responder& respond, const Router& router,
                    cabinet::Pages& cabinet_pages, console::Pages& console_pages,
                    admin::Dialect& admin, const ReadinessChecks& readiness) {
  try {
    if (request.path() == "/healthz" && request.problem == http::RequestProblem::kNone) {
      http::Response r;
      r.body = R"({"status":"ok"})";
      return respond(std::move(r));
    }
    if (request.path() == kReadinessPath && request.problem == http::RequestProblem::kNone) {
      return respond(readiness_response(readiness));
    }
    if (router.handle(request, respond) || cabinet_pages.handle(request, respond) ||
        console_pages.handle(request, respond) || web::serve_asset(request, respond) ||
        admin.handle(request, respond)) {
      return;
    }
    if (auto problem = web::problem_response(request, "payoutd", web::kServerUtcOffsetMinutes)) {
      return respond(std::move(*problem));
    }
    respond(web::error_response(404, "payoutd", "route.not.found", "no such path",
                                web::kServerUtcOffsetMinutes));
  } catch (const std::exception& e) {
    // A last resort for bugs only: a storage failure is a value every handler answers in its own
    // dialect (store::Read, store::Status), so nothing expected reaches this catch. Whatever does
    // still gets an answer (payoutd's own envelope) instead of a dropped connection.
    spdlog::error("request {} {} failed: {}", request.method, request.path(), e.what());
    respond(web::error_response(503, "payoutd", "service.unavailable", "storage unavailable, retry",
                                web::kServerUtcOffsetMinutes));
  }
}

// "listening on URL" of each listener, the TLS one first: the harnesses take the last line for
// the server's readiness.
void print_listeners(const Config& config, std::uint16_t port, std::uint16_t tls_port,
                     const metrics::Exporter* exporter) {
  if (config.server.tls) {
    std::printf("listening on %s\n", origin_of("https", config.server.tls->host, tls_port).c_str());
  }
  if (config.server.plain) {
    std::printf("listening on %s\n", origin_of("http", config.server.host, port).c_str());
  }
  if (exporter) {
    std::printf("metrics on %s/metrics\n",
                origin_of("http", config.metrics_listen.host, exporter->port()).c_str());
  }
  std::fflush(stdout);
}

// The metrics listener when the config has one: bound and serving. Announced after "listening
// on" (whoever reads that first line finds it first still), as "metrics on
// http://HOST:PORT/metrics".
std::unique_ptr<metrics::Exporter> start_metrics(const Config& config, metrics::Sources sources) {
  if (!config.metrics) return nullptr;
  auto exporter = std::make_unique<metrics::Exporter>(sources, config.metrics_listen);
  exporter->listen();
  exporter->start();
  return exporter;
}

// The providers the payout metrics tell apart: every one of the registry.
std::vector<std::string> provider_names() {
  std::vector<std::string> names;
  for (const providers::Module& module : providers::modules()) names.emplace_back(module.name);
  return names;
}

void log_stopped(const engine::CommitterStats& stats) {
  spdlog::info(
      "stopped: {} jobs in {} batches (largest {}), {} failed batches; {} ms applying, {} ms "
      "committing; {} syncs taking {} ms",
      stats.jobs, stats.batches, stats.batch_jobs_largest, stats.failed_batches,
      stats.apply_us_total / 1000, stats.commit_us_total / 1000, stats.syncs,
      stats.sync_us_total / 1000);
}

int serve(const Config& config) {
  const std::optional<cards::Key> kek = vault_key(config);
  const cards::BinTable bins =
      config.bin_table.empty() ? cards::BinTable() : cards::BinTable::load(config.bin_table);
  auto store = open_store(config, Access::kServe);
  SystemClock clock;
  engine::Committer committer(*store, clock, config.committer);
  committer.start();
  engine::PayoutEngine engine(committer, *store, clock,
                              {.node_id = node_id(config), .metric_providers = provider_names()});
  cards::Vault vault(kek.value_or(cards::Key{}));
  const std::unique_ptr<BuiltRails> rails = build_rails(config, clock);
  engine::CardPayouts cards(engine, *store, clock, vault, bins, rails->set, config.card_engine);
  Transports transports(config);
  outbox::DispatcherOptions dispatch = config.dispatch;
  dispatch.node_id = node_id(config);
  outbox::Dispatcher dispatcher(committer, *store, clock, transports.routing, dispatch);
  dispatcher.open_sealed_with(
      [&vault](const store::OutboxMessage& m) -> std::optional<std::string> {
        if (!vault.is_open()) return std::nullopt;
        return vault.open_message(m.tenant, m.event_id, m.body);
      });
  cards.on_outbox([&dispatcher] { dispatcher.wake(); });
  tenants::Directory directory(committer, *store, clock, tenant_kinds(config), config.tenants,
                               &vault);
  tenants::Changes tenant_changes(committer, directory, clock);
  auto stop_all = [&] {
    directory.stop();  // flushes its counts through the committer
    dispatcher.stop();
    cards.stop();
    engine.stop();
    committer.stop();
  };
  cabinet::Auth cabinet_auth(engine, *store, clock, cabinet_options(config, directory));
  if (std::string failure = prepare(config, kek.has_value(), engine, cards);
      !failure.empty() || !(failure = open_tenants(config, directory, tenant_changes)).empty() ||
      !(failure = cabinet_conflict(cabinet_auth)).empty()) {
    spdlog::critical("{}", failure);
    stop_all();
    return 1;
  }
  engine.start();

  for (const auto& provider : config.providers) {
    provider->start(
        {.engine = engine, .cards = cards, .tenants = directory, .changes = tenant_changes});
  }
  cabinet::Pages cabinet_pages(cabinet_auth, *store, cards,
                               {.public_url_https = config.public_url.starts_with("https://"),
                                .statements = config.admin.statements});
  const Router router(config);
  admin::Options admin_options = config.admin;
  admin_options.audit_key = operator_audit_key(kek);
  admin::Dialect admin(engine, *store, std::move(admin_options));
  console::Options console_options = config.console;
  console_options.pages.public_url_https = config.public_url.starts_with("https://");
  console::Console console(engine, *store, clock, vault, std::move(console_options));
  admin.add_section(&console.api());
  admin.set_key_directory(&console.api());
  console.auth().set_audit_trail(&admin.audit_trail());
  console.serve_pages(admin);
  console.auth().bootstrap([](bool ok) {
    if (!ok) spdlog::error("console: the config's [[admin.staff]] could not be written: retry");
  });
  for (const auto& provider : config.providers) {
    for (cabinet::Section* section : provider->cabinet_sections())
      cabinet_pages.add_section(section);
    if (admin::Section* section = provider->admin_section()) admin.add_section(section);
  }
  // A tenant's per-card limits are its settings' (Kind::card_limits), read as each payout reserves.
  cards.set_limits_source([&directory](const Tenant& t) { return directory.card_limits(t); });
  cards.start();  // after every dialect has set its notifier and limits
  dispatcher.start();
  admin.set_sandbox_rails(rails->sandboxes);
  admin.set_rails(&rails->set);
  admin.set_outbox_store(store.get());
  admin.set_report_store(store.get());
  admin::TenantsApi tenants_api(directory, tenant_changes, {.requests = &admin.requests()});
  admin.set_tenants(&tenants_api);
  admin::PayoutsApi payouts_api(engine, *store, {.attention_age_s = config.admin.attention_age_s});
  payouts_api.on_redeliver([&dispatcher] { dispatcher.wake(); });
  admin.set_payouts(&payouts_api);
  console::CabinetUsersApi cabinet_users_api(cabinet_auth.user_admin());
  admin.add_tenant_section(&cabinet_users_api);
  metrics::HttpRequests http_metrics;
  const std::unique_ptr<metrics::Exporter> exporter =
      start_metrics(config, {http_metrics, engine.payout_metrics(), committer, dispatcher,
                             rails->set, *store, clock, &directory});
  http::ServerOptions server_options = config.server;
  if (exporter) server_options.observer = &http_metrics;
  const http::Server* listening = nullptr;  // set once constructed: /readyz asks it
  const ReadinessChecks readiness{
      .store = store.get(), .vault = kek ? &vault : nullptr, .draining = [&listening] {
        return listening && listening->draining();
      }};
  http::Server server(server_options, with_request_log(
                                          [&](http::Request&& request, http::Responder respond) {
                                            answer_request(request, respond, router, cabinet_pages,
                                                           console.pages(), admin, readiness);
                                          },
                                          config.log.access ? AccessLog::kOn : AccessLog::kOff));
  listening = &server;
  const std::uint16_t first_port = server.listen();
  const std::uint16_t port = config.server.plain ? first_port : 0;
  const std::uint16_t tls_port = server.tls_port();
  const std::string public_url = public_origin(config, port, tls_port);
  for (const auto& provider : config.providers) provider->set_public_url(public_url);
  print_listeners(config, port, tls_port, exporter.get());
  spdlog::info("serving on port {}{} with data in {}, {} connections at most; public origin {}",
               first_port, tls_port && port ? " and " + std::to_string(tls_port) + " (TLS)" : "",
               config.storage_backend == "postgres" ? "PostgreSQL" : config.data_dir,
               config.server.connections_max, public_url);
  server.run(stop_all);
  if (exporter) exporter->stop();  // after the drain, which it showed
  log_stopped(committer.stats());
  return 0;
}

int audit(const Config& config) {
  std::unique_ptr<store::Store> store;
  engine::AuditKey key;
  try {
    key = operator_audit_key(vault_key(config));
    store = open_store(config, Access::kAudit);
  } catch (const std::exception& e) {
    std::cerr << "audit: " << e.what() << "\n";
    return 2;
  }
  const store::Read<store::AuditSnapshot> read = store->snapshot();
  if (!read.ok()) {
    std::cerr << "audit: cannot read the store: " << read.error().message << "\n";
    return 2;
  }
  const store::AuditSnapshot& snapshot = *read;
  auto violations = engine::audit_snapshot(snapshot);
  const engine::OperatorLogCheck log = engine::check_operator_log(*store, key);
  violations.insert(violations.end(), log.violations.begin(), log.violations.end());
  for (const auto& v : violations) std::cout << "VIOLATION: " << v << "\n";
  std::cout << "audit: operator audit log: " << log.entries << " entries, head " << log.head_seq
            << " " << (log.head_hash.empty() ? "-" : log.head_hash)
            << (key.keyed ? "" : " (unkeyed: no vault.kek)") << "\n";
  const auto accounts = snapshot.accounts.size();
  const auto payouts = snapshot.payouts.size();
  if (!violations.empty()) {
    std::cout << "audit: " << violations.size() << " violations\n";
    return 1;
  }
  std::cout << "audit: " << accounts << " accounts, " << payouts
            << " payouts: every invariant holds\n";
  return 0;
}

int migrate(const Config& config) {
  auto store = open_store(config, Access::kMigrate);
  std::cout << "migrate: the database is at schema version " << store->schema_version() << "\n";
  return 0;
}

}  // namespace
}  // namespace payoutd::app

int main(int argc, char** argv) {
  using namespace payoutd::app;
  // Keep freed memory instead of returning it to the kernel after every burst: the per-thread
  // heaps otherwise shrink and regrow (mprotect) thousands of times a second under load.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  // Every file payoutd creates (databases, their logs, the sinks' messages) is its owner's alone,
  // whatever umask the process was started with.
  ::umask(077);
  CLI::App cli{"payoutd: a payout gateway speaking QIWI BaaS, ecommpay and Bereke Bank APIs"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", PAYOUTD_VERSION);
  std::string config_path;
  std::string listen;
  std::string data_dir;
  std::string postgres_url;
  auto storage_options = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_path, "config file (TOML)")->required();
    cmd->add_option("--data-dir", data_dir, "overrides storage.data_dir");
    cmd->add_option("--postgres-url", postgres_url,
                    "use PostgreSQL at this URL (overrides storage.backend)");
  };
  auto* serve_cmd = cli.add_subcommand("serve", "run the HTTP server");
  storage_options(serve_cmd);
  serve_cmd->add_option("--listen", listen, "HOST:PORT, overrides server.listen (port 0: any)");
  std::string metrics_listen;
  serve_cmd->add_option("--metrics-listen", metrics_listen,
                        "HOST:PORT, overrides metrics.listen (port 0: any; with --listen on port "
                        "0 the metrics take any port too)");
  auto* audit_cmd = cli.add_subcommand("audit", "recompute balances and check every invariant");
  storage_options(audit_cmd);
  auto* migrate_cmd =
      cli.add_subcommand("migrate", "bring the database's schema to this version's");
  storage_options(migrate_cmd);
  auto* hash_cmd = cli.add_subcommand(
      "hash-password",
      "read a password on standard input, print its argon2id hash (cabinet.users)");
  CLI11_PARSE(cli, argc, argv);
  if (hash_cmd->parsed()) {
    std::string password;
    std::getline(std::cin, password);
    if (password.empty()) {
      std::cerr << "payoutd: an empty password\n";
      return 1;
    }
    std::cout << payoutd::cabinet::hash_password(password) << "\n";
    return 0;
  }

  try {
    Config config = load_config(config_path);
    if (!listen.empty()) override_listen(listen, config);
    override_metrics_listen(metrics_listen, !listen.empty() && config.server.port == 0, config);
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (!postgres_url.empty()) use_postgres(postgres_url, config);
    if (serve_cmd->parsed()) {
      fit_connections_to_descriptors(config);
      setup_logging(config.log);
      return serve(config);
    }
    if (migrate_cmd->parsed()) {
      setup_logging(config.log);
      return migrate(config);
    }
    return audit(config);
  } catch (const std::exception& e) {
    // Once the log is set up, its format holds for this line too (a pipeline may read it).
    if (auto logger = spdlog::get("payoutd")) {
      logger->critical("{}", e.what());
    } else {
      std::cerr << "payoutd: " << e.what() << "\n";
    }
    return 1;
  }
}
