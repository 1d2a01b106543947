#include "app/config.h"
#include "app/console_config.h"

#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "app/rails_config.h"
#include "cards/card.h"
#include "config/reader.h"
#include "core/secrets.h"
#include "core/time_format.h"
#include "outbox/work_pool.h"
#include "store/sqlite_store.h"

namespace payoutd::app {
namespace {

constexpr std::size_t kAdminTokenCharsMin = 32;  // outside the sandbox

using config::bounded;
using config::fail;
using config::get_or;
using config::required_string;
using config::section;

// A file path of the config: relative ones are resolved against the config's directory.
std::string config_file_path(const std::string& value, const std::string& config_path) {
  std::filesystem::path file = value;
  if (!file.empty() && file.is_relative()) {
    file = std::filesystem::path(config_path).parent_path() / file;
  }
  return file.string();
}

// A cabinet user's `roles` (cabinet/roles.h); a user that lists none has every role, as every
// user had before roles existed.
cabinet::Roles roles_of(const toml::table& user, const std::string& where) {
  const toml::node* node = user.get("roles");
  if (!node) return cabinet::Roles::all();
  const toml::array* list = node->as_array();
  if (!list) fail(where + ".roles", "must be a list of roles: " + cabinet::role_names());
  std::vector<std::string> names;
  for (const toml::node& n : *list) {
    const auto name = n.value<std::string>();
    if (!name) fail(where + ".roles", "must be a list of roles: " + cabinet::role_names());
    names.push_back(*name);
  }
  const cabinet::ParsedRoles parsed = cabinet::parse_roles(names);
  switch (parsed.error) {
    case cabinet::RolesError::kNone:
      break;
    case cabinet::RolesError::kEmpty:
      fail(where + ".roles",
           "lists no role (at least \"viewer\"; roles: " + cabinet::role_names() + ")");
    case cabinet::RolesError::kUnknown:
      fail(where + ".roles",
           "\"" + parsed.unknown + "\" is not a role (roles: " + cabinet::role_names() + ")");
  }
  return parsed.roles;
}

// [cabinet] and its [[cabinet.users]]: each a login, the tenant it sees (a QIWI product, a
// Bereke partner or an ecommpay project of this config), its password's argon2id hash, and its
// roles.
void load_cabinet(const toml::table& root, Config& config) {
  const toml::table& t = section(root, "cabinet");
  cabinet::AuthOptions& o = config.cabinet;
  for (const char* gone : {"lockout_failures", "lockout_minutes"}) {
    if (t.get(gone)) {
      fail(std::string("cabinet.") + gone,
           "logins are no longer locked (a stranger could lock anyone out): "
           "wrong passwords are throttled by [throttle] (docs/cabinet.md)");
    }
  }
  o.throttle = config.throttle;
  o.refuse_published_passwords = !config.sandbox;
  o.checks_per_address_per_minute =
      static_cast<int>(bounded(t, "cabinet", "checks_per_address_per_minute", 20, 1, 100'000));
  o.checks_per_address_burst =
      static_cast<int>(bounded(t, "cabinet", "checks_per_address_burst", 10, 1, 100'000));
  o.pending_max =
      static_cast<std::size_t>(bounded(t, "cabinet", "pending_checks_max", 256, 1, 100'000));
  o.pending_per_address_max = static_cast<std::size_t>(
      bounded(t, "cabinet", "pending_checks_per_address_max", 4, 1, 100'000));
  o.device_ms = bounded(t, "cabinet", "device_days", 90, 1, 3650) * 86'400'000LL;
  o.session_idle_ms = bounded(t, "cabinet", "session_idle_minutes", 30, 1, std::int64_t{24} * 60) *
                      std::int64_t{60'000};
  o.session_max_ms = bounded(t, "cabinet", "session_max_hours", 12, 1, std::int64_t{24} * 30) *
                     std::int64_t{3'600'000};
  const std::vector<Tenant>& tenants = config.admin.tenants;
  const toml::array* users = t["users"].as_array();
  if (!users) return;
  for (std::size_t i = 0; i < users->size(); ++i) {
    const std::string where = "cabinet.users[" + std::to_string(i) + "]";
    const toml::table* u = (*users)[i].as_table();
    if (!u) fail(where, "must be a table");
    cabinet::User user;
    user.login = required_string(*u, where, "login");
    if (user.login.size() > 64) fail(where + ".login", "at most 64 characters");
    const std::optional<Tenant> tenant = Tenant::parse(required_string(*u, where, "tenant"));
    if (!tenant || std::find(tenants.begin(), tenants.end(), *tenant) == tenants.end()) {
      fail(where + ".tenant",
           "no such tenant in this config (qiwi:<product>, bereke:<partner>, ecommpay:<project>)");
    }
    user.tenant = *tenant;
    user.password_hash = required_string(*u, where, "password_hash");
    if (!cabinet::is_password_hash(user.password_hash)) {
      fail(where + ".password_hash", "must be an argon2id hash (payoutd hash-password makes one)");
    }
    user.roles = roles_of(*u, where);
    for (const auto& existing : o.users) {
      if (existing.login == user.login) fail(where + ".login", "duplicate login");
    }
    o.users.push_back(std::move(user));
  }
}

// [throttle]: wrong credentials (cabinet passwords, Bereke passwords, QIWI and admin tokens).
void load_throttle(const toml::table& root, Config& config) {
  const toml::table& t = section(root, "throttle");
  ThrottleOptions& o = config.throttle;
  o.failures_free =
      static_cast<int>(bounded(t, "throttle", "failures_free", o.failures_free, 0, 1000));
  o.delay_first_ms = bounded(t, "throttle", "delay_first_ms", o.delay_first_ms, 1, 3'600'000);
  o.delay_max_ms = bounded(t, "throttle", "delay_max_s", o.delay_max_ms / 1000, 1, 86'400) * 1000;
  o.address_failures_per_minute = static_cast<int>(bounded(
      t, "throttle", "address_failures_per_minute", o.address_failures_per_minute, 1, 1'000'000));
  o.address_failures_burst = static_cast<int>(
      bounded(t, "throttle", "address_failures_burst", o.address_failures_burst, 1, 1'000'000));
  o.entries_max =
      static_cast<std::size_t>(bounded(t, "throttle", "entries_max", 50'000, 100, 10'000'000));
  if (o.delay_first_ms > o.delay_max_ms)
    fail("throttle.delay_first_ms", "must not exceed delay_max_s");
}

void load_cards(const toml::table& root, const std::string& config_path, Config& config) {
  const toml::table& cards_section = section(root, "cards");
  config.bin_table =
      config_file_path(get_or<std::string>(cards_section, "cards", "bin_table", ""), config_path);

  const toml::table& vault = section(root, "vault");
  config.vault_kek = get_or<std::string>(vault, "vault", "kek", "");
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while the config loads, before any thread.
  if (const char* env = std::getenv("PAYOUTD_VAULT_KEK"); env && *env) config.vault_kek = env;
}

// Whether `value` still holds the production template's placeholder (config/production.toml,
// /etc/payoutd/payoutd.toml of the Debian package), in any letter case: a secret never set.
bool is_template_placeholder(std::string_view value) {
  constexpr std::string_view kPlaceholder = "CHANGE-ME";
  const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; };
  return std::search(value.begin(), value.end(), kPlaceholder.begin(), kPlaceholder.end(),
                     [&](char a, char b) { return upper(a) == b; }) != value.end();
}

// log_level and [log]: the sandbox logs for people (text), a production node for a pipeline
// (json); PAYOUTD_LOG_FORMAT and PAYOUTD_LOG_ACCESS in the environment override the file.
void load_log(const toml::table& root, Config& config) {
  LogOptions& log = config.log;
  log.level = get_or<std::string>(root, "", "log_level", "info");
  if (spdlog::level::from_str(log.level) == spdlog::level::off && log.level != "off") {
    fail("log_level", "must be one of trace, debug, info, warn, error, critical, off");
  }
  const toml::table& s = section(root, "log");
  std::string format = get_or<std::string>(s, "log", "format", config.sandbox ? "text" : "json");
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while the config loads, before any thread.
  if (const char* env = std::getenv("PAYOUTD_LOG_FORMAT"); env && *env) format = env;
  if (!parse_log_format(format, &log.format)) {
    fail("log.format",
         "must be \"text\" or \"json\" (or PAYOUTD_LOG_FORMAT), got \"" + format + "\"");
  }
  log.access = get_or<bool>(s, "log", "access", true);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once while the config loads, before any thread.
  if (const char* env = std::getenv("PAYOUTD_LOG_ACCESS"); env && *env) {
    const std::string_view value = env;
    if (value != "true" && value != "false")
      fail("log.access", "PAYOUTD_LOG_ACCESS must be true or false");
    log.access = value == "true";
  }
}

// Outside the sandbox, a secret published with the sandbox (its config, docs, the seeds) protects
// nothing, and one holding the production template's placeholder was never set: every one is
// refused, named by its key, whatever prefix or letter case it was given.
void refuse_unset_secrets(const Config& config) {
  std::vector<std::string> placeholders;
  std::vector<std::string> published;
  auto check = [&](const std::string& key, std::string_view value) {
    if (is_template_placeholder(value)) {
      placeholders.push_back(key);
    } else if (!value.empty() && is_published_secret(value)) {
      published.push_back(key);
    }
  };
  check("admin.token", config.admin.token);
  for (const auto& provider : config.providers) {
    for (const providers::ConfigSecret& secret : provider->secrets())
      check(secret.key, secret.value);
  }
  for (std::size_t i = 0; i < config.cabinet.users.size(); ++i) {
    check("cabinet.users[" + std::to_string(i) + "].password_hash",
          config.cabinet.users[i].password_hash);
  }
  check("vault.kek", config.vault_kek);
  auto keys = [](const std::vector<std::string>& found) {
    std::string out;
    for (const std::string& k : found) out.append(out.empty() ? "" : ", ").append(k);
    return out;
  };
  if (!placeholders.empty()) {
    fail(keys(placeholders), "still the template's placeholder CHANGE-ME: set secrets of your own");
  }
  if (!published.empty()) {
    fail(keys(published),
         "published with the sandbox, refused outside it: set secrets of your own");
  }
}

// [outbox]: the dispatcher, the callbacks' lane, and what every lane shares.
void load_outbox(const toml::table& root, Config& config) {
  const toml::table& outbox = section(root, "outbox");
  auto& web = config.callbacks;
  web.allow_private_targets =
      get_or<bool>(outbox, "outbox", "allow_private_targets", config.sandbox);
  web.proxy_url = get_or<std::string>(outbox, "outbox", "proxy_url", "");
  if (!web.proxy_url.empty() && !web.proxy_url.starts_with("http://") &&
      !web.proxy_url.starts_with("https://")) {
    fail("outbox.proxy_url", "must be an http or https URL (or absent: no proxy)");
  }
  web.threads = static_cast<int>(bounded(outbox, "outbox", "threads", 8, 1, 64));
  web.tenant_threads_max = static_cast<int>(
      bounded(outbox, "outbox", "tenant_threads_max", std::min(2, web.threads), 1, web.threads));
  web.connect_timeout_ms = bounded(outbox, "outbox", "connect_timeout_ms", 2000, 100, 60'000);
  web.timeout_ms = bounded(outbox, "outbox", "timeout_ms", 15000, 100, 600'000);
  auto& dispatch = config.dispatch;
  const auto queued_max = static_cast<std::int64_t>(outbox::kSendsQueuedMax);
  dispatch.in_flight_max =
      static_cast<std::size_t>(bounded(outbox, "outbox", "in_flight_max", 64, 1, queued_max));
  const auto in_flight_max = static_cast<std::int64_t>(dispatch.in_flight_max);
  dispatch.tenant_in_flight_max =
      static_cast<std::size_t>(bounded(outbox, "outbox", "tenant_in_flight_max",
                                       std::min<std::int64_t>(4, in_flight_max), 1, in_flight_max));
  // Every thread of the callbacks' lane may be held by a tenant whose receiver hangs (each holds
  // tenant_threads_max); one more tenant must still find room in flight.
  const std::size_t hanging_max =
      static_cast<std::size_t>(web.threads / web.tenant_threads_max) + 1;
  if (dispatch.in_flight_max < hanging_max * dispatch.tenant_in_flight_max) {
    fail("outbox.in_flight_max",
         "must be at least (threads / tenant_threads_max + 1) * tenant_in_flight_max = " +
             std::to_string(hanging_max * dispatch.tenant_in_flight_max) +
             ", or tenants whose receivers hang hold every message in flight");
  }
  if (const toml::array* retry = outbox["retry_s"].as_array()) {
    dispatch.retry_ms.clear();
    for (const auto& v : *retry) {
      const auto seconds = v.value<double>();  // an integer too: every int64 converts
      // Written so that NaN fails; a wait under a millisecond would be none at all.
      if (!seconds || !(*seconds >= 0.001 && *seconds <= 86'400)) {
        fail("outbox.retry_s", "lists waits in seconds, from 0.001 to a day");
      }
      dispatch.retry_ms.push_back(static_cast<std::int64_t>(*seconds * 1000));
    }
    if (dispatch.retry_ms.empty()) fail("outbox.retry_s", "must not be empty");
  }
  dispatch.give_up_after_ms =
      bounded(outbox, "outbox", "give_up_after_h", 72, 1, std::int64_t{24} * 60) *
      std::int64_t{3'600'000};
  dispatch.poll_ms = bounded(outbox, "outbox", "poll_ms", 1000, 10, 60'000);
}

// [sms]: the gateway, through a lane of its own ([outbox] first: it shares its connection rules).
void load_sms(const toml::table& root, Config& config) {
  const toml::table& sms = section(root, "sms");
  config.sms.gateway_url = get_or<std::string>(sms, "sms", "gateway_url", "");
  if (!config.sms.gateway_url.empty() && !config.sms.gateway_url.starts_with("https://") &&
      !config.sms.gateway_url.starts_with("http://")) {
    fail("sms.gateway_url", "must be an http or https URL");
  }
  // One-time codes travel in the gateway's requests: only over TLS outside the sandbox.
  if (!config.sandbox && config.sms.gateway_url.starts_with("http://")) {
    fail("sms.gateway_url",
         "must be an https URL outside the sandbox (one-time codes travel in it)");
  }
  auto& gateway = config.sms_gateway;
  gateway = config.callbacks;  // the connect timeout of every HTTP lane
  // The gateway is the operator's own, named in the config, not a partner's URL: it may sit on
  // a private network (no address check), and goes through sms.proxy_url only, never the
  // callbacks' proxy.
  gateway.allow_private_targets = true;
  gateway.proxy_url = get_or<std::string>(sms, "sms", "proxy_url", "");
  if (!gateway.proxy_url.empty() && !gateway.proxy_url.starts_with("http://") &&
      !gateway.proxy_url.starts_with("https://")) {
    fail("sms.proxy_url", "must be an http or https URL (or absent: no proxy)");
  }
  gateway.threads = static_cast<int>(bounded(sms, "sms", "threads", 2, 1, 16));
  gateway.tenant_threads_max = 0;  // one receiver, the operator's: tenants take it in turns
  gateway.timeout_ms = bounded(sms, "sms", "timeout_ms", 10000, 100, 600'000);
  gateway.user_agent = "payoutd-sms/1";
  gateway.thread_name = "sms-gateway";
}

// [mail]: SMTP, or the sink ([outbox] first: the connect timeout is every lane's).
void load_mail(const toml::table& root, Config& config) {
  const toml::table& mail = section(root, "mail");
  config.mail.smtp_url = get_or<std::string>(mail, "mail", "smtp_url", "");
  config.mail.from = get_or<std::string>(mail, "mail", "from", config.mail.from);
  if (!config.mail.smtp_url.empty() && !config.mail.smtp_url.starts_with("smtp://") &&
      !config.mail.smtp_url.starts_with("smtps://")) {
    fail("mail.smtp_url", "must be smtp://HOST:PORT or smtps://HOST:PORT");
  }
  config.mail.require_tls = get_or<bool>(mail, "mail", "require_tls", !config.sandbox);
  config.mail.connect_timeout_ms = config.callbacks.connect_timeout_ms;
  config.mail.timeout_ms = bounded(mail, "mail", "timeout_ms", 30000, 100, 600'000);
}

// [server.tls]: the TLS listener, its certificate chain and key, and the CA of client
// certificates. The files are read when the server starts (and on SIGHUP), not here.
void load_tls(const toml::table& server, const std::string& config_path, Config& config) {
  const toml::node* node = server.get("tls");
  if (!node) return;
  const toml::table* t = node->as_table();
  if (!t) fail("server.tls", "must be a table");
  http::TlsOptions tls;
  http::ServerOptions bound;
  parse_listen(required_string(*t, "server.tls", "listen"), bound);
  tls.host = bound.host;
  tls.port = bound.port;
  tls.cert_file = config_file_path(required_string(*t, "server.tls", "cert_file"), config_path);
  tls.key_file = config_file_path(required_string(*t, "server.tls", "key_file"), config_path);
  tls.client_ca_file =
      config_file_path(get_or<std::string>(*t, "server.tls", "client_ca_file", ""), config_path);
  config.server.tls = std::move(tls);
}

// [server] public_url: an http(s) URL without query or fragment; https outside the sandbox.
void load_public_url(const toml::table& server, Config& config) {
  std::string url = get_or<std::string>(server, "server", "public_url", "");
  while (!url.empty() && url.back() == '/') url.pop_back();
  const bool https = url.starts_with("https://");
  if (!url.empty() &&
      ((!https && !url.starts_with("http://")) || url.find_first_of("?#") != std::string::npos)) {
    fail("server.public_url", "must be an http or https URL without query or fragment");
  }
  if (!config.sandbox && !https) {
    fail("server.public_url",
         "must be an https URL outside the sandbox (the origin partners and recipients are sent "
         "to: formUrl, Payment Page links, callbacks)");
  }
  config.public_url = std::move(url);
}

// [server]'s proxy keys (docs/proxies.md): which peers are trusted proxies, and how they name the
// client.
void load_client_address(const toml::table& server, http::ClientAddressOptions& options) {
  options.trusted_proxies = config::networks(server, "server", "trusted_proxies");
  options.proxy_protocol = get_or<bool>(server, "server", "proxy_protocol", false);
  if (options.proxy_protocol && options.trusted_proxies.empty()) {
    fail("server.proxy_protocol",
         "needs server.trusted_proxies: only a trusted proxy's PROXY header is read, and every "
         "other connection would be closed");
  }
  const std::string header =
      get_or<std::string>(server, "server", "forwarded_header", "X-Forwarded-For");
  if (header == "X-Forwarded-For") {
    options.forwarded_header = http::ForwardedHeader::kXForwardedFor;
  } else if (header == "Forwarded") {
    options.forwarded_header = http::ForwardedHeader::kForwarded;
  } else {
    fail("server.forwarded_header", "must be \"X-Forwarded-For\" or \"Forwarded\"");
  }
}

// [server]: the listening addresses, I/O threads, limits and deadlines. A plain listener is
// there when [server] listen is, or when [server.tls] is not.
void load_server(const toml::table& root, const std::string& config_path, Config& config) {
  const toml::table& server = section(root, "server");
  parse_listen(get_or<std::string>(server, "server", "listen", "127.0.0.1:8080"), config.server);
  load_tls(server, config_path, config);
  config.server.plain = server.get("listen") != nullptr || !config.server.tls;
  config.plain_http_behind_proxy = get_or<bool>(server, "server", "plain_http_behind_proxy", false);
  load_public_url(server, config);
  config.server.io_threads =
      static_cast<int>(get_or<std::int64_t>(server, "server", "io_threads", 1));
  if (config.server.io_threads < 1 || config.server.io_threads > 64) {
    fail("server.io_threads", "must be 1..64");
  }
  config.server.body_limit_bytes = static_cast<std::size_t>(
      bounded(server, "server", "body_limit_bytes", std::int64_t{64} * 1024, 1024, 64 << 20));
  config.server.header_limit_bytes = static_cast<std::size_t>(
      bounded(server, "server", "header_limit_bytes", std::int64_t{16} * 1024, 1024, 1 << 20));
  config.server.connections_max =
      static_cast<std::size_t>(bounded(server, "server", "connections_max", 0, 0, 1'000'000));
  config.server.idle_timeout_s =
      static_cast<int>(bounded(server, "server", "idle_timeout_s", 60, 1, 3600));
  config.server.read_timeout_s =
      static_cast<int>(bounded(server, "server", "read_timeout_s", 10, 1, 3600));
  config.server.write_timeout_s =
      static_cast<int>(bounded(server, "server", "write_timeout_s", 60, 1, 3600));
  config.server.drain_timeout_s =
      static_cast<int>(bounded(server, "server", "drain_timeout_s", 30, 0, 3600));
  load_client_address(server, config.server.client_address);
}

// [metrics]: where the Prometheus metrics are served; absent or "" (the default): nowhere.
void load_metrics(const toml::table& root, Config& config) {
  const toml::table& metrics = section(root, "metrics");
  const std::string listen = get_or<std::string>(metrics, "metrics", "listen", "");
  config.metrics = !listen.empty();
  if (config.metrics) parse_listen(listen, config.metrics_listen);
}

// [storage]: SQLite in the data directory, or PostgreSQL with its pool and timeouts.
void load_storage(const toml::table& root, Config& config) {
  const toml::table& storage = section(root, "storage");
  config.storage_backend = get_or<std::string>(storage, "storage", "backend", "sqlite");
  if (config.storage_backend != "sqlite" && config.storage_backend != "postgres") {
    fail("storage.backend", "must be sqlite or postgres");
  }
  config.data_dir = get_or<std::string>(storage, "storage", "data_dir", "var");
  config.node_id = get_or<std::string>(storage, "storage", "node_id", "");
  store::PostgresOptions& pg = config.postgres;
  pg.url = get_or<std::string>(storage, "storage", "postgres_url", "");
  auto pg_int = [&](const char* key, int fallback, int min, int max) {
    return static_cast<int>(bounded(storage, "storage", key, fallback, min, max));
  };
  pg.read_connections_max =
      pg_int("postgres_read_connections_max", pg.read_connections_max, 1, 1000);
  pg.pool_wait_ms = pg_int("postgres_pool_wait_ms", pg.pool_wait_ms, 1, 60'000);
  pg.connect_timeout_s = pg_int("postgres_connect_timeout_s", pg.connect_timeout_s, 2, 600);
  pg.statement_timeout_ms =
      pg_int("postgres_statement_timeout_ms", pg.statement_timeout_ms, 100, 3'600'000);
  pg.lock_timeout_ms = pg_int("postgres_lock_timeout_ms", pg.lock_timeout_ms, 100, 3'600'000);
  pg.reply_timeout_ms = pg_int("postgres_reply_timeout_ms", pg.reply_timeout_ms, 1000, 3'600'000);
  if (pg.reply_timeout_ms <= pg.statement_timeout_ms) {
    fail("storage.postgres_reply_timeout_ms", "must be above postgres_statement_timeout_ms");
  }
  pg.idle_in_transaction_timeout_ms = pg_int("postgres_idle_in_transaction_timeout_ms",
                                             pg.idle_in_transaction_timeout_ms, 1000, 3'600'000);
  pg.reconnect_backoff_ms =
      pg_int("postgres_reconnect_backoff_ms", pg.reconnect_backoff_ms, 0, 60'000);
  pg.startup_wait_s = pg_int("postgres_startup_wait_s", pg.startup_wait_s, 0, 3600);
  if (config.storage_backend == "postgres" && pg.url.empty()) {
    fail("storage.postgres_url", "is required with backend = \"postgres\"");
  }
  if (config.storage_backend == "postgres" && !config.sandbox) {
    if (const std::string why = store::postgres_url_refusal(pg.url); !why.empty()) {
      fail("storage.postgres_url", why);
    }
  }
}

// [engine]: the group committer's batch and queue.
void load_engine(const toml::table& root, Config& config) {
  const toml::table& engine = section(root, "engine");
  config.committer.batch_jobs_max =
      static_cast<std::size_t>(bounded(engine, "engine", "batch_jobs_max", 4096, 1, 1 << 20));
  config.committer.queue_jobs_max =
      static_cast<std::size_t>(bounded(engine, "engine", "queue_jobs_max", 65536, 1, 1 << 24));
}

// [tenants] refresh_ms: how often each node polls the tenant directory's revision (a change made
// on another node is seen within it; tenants/directory.h).
void load_tenants(const toml::table& root, Config& config) {
  const toml::table& tenants = section(root, "tenants");
  config.tenants.refresh_ms = bounded(tenants, "tenants", "refresh_ms", 200, 10, 60'000);
}

bool client_ca_configured(const Config& config) {
  return config.server.tls && !config.server.tls->client_ca_file.empty();
}

// [admin]: the admin API's token (and the client certificates it takes), or the API off.
void load_admin(const toml::table& root, Config& config) {
  const toml::table& admin = section(root, "admin");
  config.admin.token = get_or<std::string>(admin, "admin", "token", "");
  // Outside the sandbox the token only bootstraps the staff (docs/admin.md, "Staff, roles and API
  // keys").
  config.admin.token_bootstrap_only = !config.sandbox;
  config.admin.client_certificates =
      config::client_certificate_policy(admin, "admin", client_ca_configured(config));
  const bool admin_enabled = get_or<bool>(admin, "admin", "enabled", true);
  if (!admin_enabled) config.admin.token.clear();
  if (config.sandbox && !config.admin.token.empty() && config.admin.token.size() < 16) {
    fail("admin.token", "must be at least 16 characters (or empty to disable the admin API)");
  }
  // Outside the sandbox the admin API mints money: it is either off, said so, or behind a long
  // token (32 characters: some 190 bits when random).
  if (!config.sandbox && admin_enabled && config.admin.token.size() < kAdminTokenCharsMin) {
    fail("admin.token",
         "must be at least 32 characters outside the sandbox (admin.enabled = false turns the "
         "admin API off)");
  }
  config.admin.maker_checker = {
      .approval_thresholds = config::amounts_by_currency(admin, "admin", "approval_threshold"),
      .request_ttl_s = config::bounded(admin, "admin", "request_ttl_s", 86'400, 1, 90LL * 86'400)};
  config.admin.attention_age_s = config::bounded(admin, "admin", "attention_age_s",
                                                 admin::kAttentionAgeSecondsDefault, 1, 86'400);
}

// [statements]: the zone of a statement's day, and the lines of one statement or report answer.
void load_statements(const toml::table& root, Config& config) {
  const toml::table& t = section(root, "statements");
  engine::StatementOptions& o = config.admin.statements;
  const std::string offset = get_or<std::string>(t, "statements", "utc_offset", "+03:00");
  const std::optional<int> minutes = parse_utc_offset_minutes(offset);
  if (!minutes) fail("statements.utc_offset", "must be Z or +hh:mm / -hh:mm");
  o.utc_offset_minutes = *minutes;
  o.lines_max =
      static_cast<std::size_t>(bounded(t, "statements", "lines_max", 10'000, 1,
                                       static_cast<std::int64_t>(engine::kStatementLinesMax)));
}

// Every provider's section, in the registry's order ([throttle], [sms] and [mail] first: the
// providers use them); then every tenant, for the admin API and the cabinet's users, and the
// admin API's throttle ([throttle] first).
void load_providers(const toml::table& root, const std::string& path, Config& config) {
  const providers::LoadContext context{.sandbox = config.sandbox,
                                       .config_path = path,
                                       .sms = config.sandbox || !config.sms.gateway_url.empty(),
                                       .mail = config.sandbox || !config.mail.smtp_url.empty(),
                                       .mail_from = config.mail.from,
                                       .throttle = config.throttle,
                                       .client_ca = client_ca_configured(config)};
  for (const providers::Module& module : providers::modules()) {
    config.providers.push_back(module.load(root, context));
  }
  for (const auto& provider : config.providers) {
    for (Tenant& tenant : provider->tenants()) {
      if (provider->pays_cards()) config.admin.card_tenants.push_back(tenant);
      config.admin.tenants.push_back(std::move(tenant));
    }
  }
  // Tokens are long and random (the admin's 32 characters at least): guessing one is hopeless,
  // so only an address's rate of failures is bounded.
  config.admin.throttle = config.throttle;
  config.admin.throttle.failures_free = std::numeric_limits<int>::max();
}

// Descriptors the server needs besides its client connections. A fixed part: standard streams,
// the log, the data directory's lock, the listening socket and its spare, the signal pipe,
// /dev/urandom, the tables read at start, the rail's SQLite files. Then three per I/O thread
// (epoll, eventfd, timerfd); the store's (SQLite: the writer's files and two per reader;
// PostgreSQL: a socket per pooled reader, the committer's and the leases'); and three per
// outbox thread (callbacks, the SMS gateway), the mail sender and the SMS sink (a libcurl
// connection and its resolver's socket pair). The metrics listener, when on, is not reserved
// for: its socket, spare and I/O thread (5) and at most metrics::kListenerConnectionsMax scrapers
// fit in what the reserve over-counts (a sandbox server at rest holds 33 descriptors of the 94
// reserved under `ulimit -n 100`), and beyond the limit its accepts back off like the main one's.
std::int64_t descriptors_reserved(const Config& config) {
  constexpr std::int64_t kFixed = 32;
  constexpr std::int64_t kPerIoThread = 3;
  constexpr std::int64_t kPerTransportThread = 3;
  const std::int64_t store =
      config.storage_backend == "postgres"
          ? config.postgres.read_connections_max + 4
          : 4 + 2 * static_cast<std::int64_t>(store::SqliteOptions{}.reader_connections_max);
  return kFixed + kPerIoThread * config.server.io_threads + store +
         kPerTransportThread * (config.callbacks.threads + config.sms_gateway.threads + 2);
}

}  // namespace

void fit_connections_to_descriptors(Config& config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    fail("server.connections_max", "cannot read the descriptor limit (ulimit -n)");
  }
  const std::int64_t descriptors =
      limit.rlim_cur == RLIM_INFINITY
          ? std::numeric_limits<std::int64_t>::max() / 2
          : static_cast<std::int64_t>(std::min<rlim_t>(limit.rlim_cur, 1ULL << 40));
  const std::int64_t reserved = descriptors_reserved(config);
  const std::int64_t room = std::min<std::int64_t>(descriptors - reserved, 1'000'000);
  auto& configured = config.server.connections_max;
  if (room < 1) {
    fail("server.connections_max",
         "the descriptor limit (ulimit -n) is " + std::to_string(descriptors) + ", below the " +
             std::to_string(reserved) + " the server needs besides its connections; raise it");
  }
  if (configured == 0) {
    configured = static_cast<std::size_t>(room);
    return;
  }
  if (static_cast<std::int64_t>(configured) > room) {
    fail("server.connections_max",
         "is " + std::to_string(configured) + ", but the descriptor limit (ulimit -n) of " +
             std::to_string(descriptors) + " leaves room for " + std::to_string(room) +
             " connections beside the " + std::to_string(reserved) +
             " descriptors the server needs itself; raise the limit or lower connections_max");
  }
}

void use_postgres(const std::string& url, Config& config) {
  if (url.empty()) throw std::runtime_error("--postgres-url must not be empty");
  if (!config.sandbox) {
    if (const std::string why = store::postgres_url_refusal(url); !why.empty()) {
      throw std::runtime_error("--postgres-url " + why);
    }
  }
  config.storage_backend = "postgres";
  config.postgres.url = url;
}

void override_metrics_listen(const std::string& listen, bool any_port, Config& config) {
  if (!listen.empty()) {
    parse_listen(listen, config.metrics_listen);
    config.metrics = true;
  } else if (any_port) {
    config.metrics_listen.port = 0;
  }
}

void parse_listen(const std::string& text, http::ServerOptions& server) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::runtime_error("listen address must be HOST:PORT, got " + text);
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) throw std::runtime_error("bad port in " + text);
    port = port * 10 + (c - '0');
  }
  if (port > 65535) throw std::runtime_error("bad port in " + text);
  server.host = host;
  server.port = static_cast<std::uint16_t>(port);
}

void override_listen(const std::string& text, Config& config) {
  parse_listen(text, config.server);
  config.server.plain = true;
  refuse_plain_http(config);
}

void refuse_plain_http(const Config& config) {
  if (config.sandbox || !config.server.plain || config.plain_http_behind_proxy) return;
  fail("server.plain_http_behind_proxy",
       "is not set, and outside the sandbox plain HTTP (server.listen or --listen) would carry "
       "passwords, codes and card numbers in clear: serve HTTPS ([server.tls], without "
       "server.listen), or set plain_http_behind_proxy = true when a TLS-terminating proxy is the "
       "only way in");
}

std::string origin_of(std::string_view scheme, const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" : "") + host + (v6 ? "]" : "") + ":" +
         std::to_string(port);
}

std::string public_origin(const Config& config, std::uint16_t plain_port, std::uint16_t tls_port) {
  if (!config.public_url.empty()) return config.public_url;
  if (config.server.tls) return origin_of("https", config.server.tls->host, tls_port);
  return origin_of("http", config.server.host, plain_port);
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code error;  // a path that cannot be inspected fails the read below
  if (in && !std::filesystem::is_directory(path, error)) {
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.bad()) return parse_config(text, path);
  }
  throw std::runtime_error("config " + path + ": cannot be read");
}

Config parse_config(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + path + ": " + std::string(e.description()));
  }
  Config config;
  config.sandbox = get_or<bool>(root, "", "sandbox", false);
  load_log(root, config);
  load_server(root, path, config);
  load_metrics(root, config);
  load_storage(root, config);
  load_engine(root, config);
  load_tenants(root, config);
  load_admin(root, config);
  load_statements(root, config);
  load_throttle(root, config);
  load_outbox(root, config);
  load_sms(root, config);
  load_mail(root, config);
  load_providers(root, path, config);
  load_cabinet(root, config);
  load_console(root, config.sandbox, config.throttle, config.console);
  load_cards(root, path, config);
  load_rails(root, config);
  if (!config.sandbox) refuse_unset_secrets(config);
  refuse_plain_http(config);
  return config;
}

}  // namespace payoutd::app
