#pragma once
// The card rails of the config and the routing between them (docs/rails.md):
// - `[rail]`: the sandbox network, the rail named "sandbox" (its record: rail.db). It is there
//   when the config lists no `[[rails]]`, as it always was, or when the section is given.
// - `[[rails]]`: more rails, each a `name` ([a-z0-9-], at most 32 characters, unique) and a `kind`
//   with that kind's keys ("sandbox": the keys of `[rail]`, its record rail-<name>.db;
//   "mastercard-send", "visa-direct", "bereke": docs/rails.md). A credential is a file path (or
//   `<key>_env`, the name of an environment variable holding the path), never the secret in the
//   config; a password is `password_file` (or `password_file_env`) or `password_env` (the
//   variable holding the password itself). A "bereke" rail's base_url may be http:// only in the
//   sandbox (a test upstream that serves plain HTTP).
// - `[routing]`: `default`, the rail of tenants without routing of their own (default: the first
//   rail), and `[[routing.tenants]]`, each a `tenant` of this config, its own `default` (empty:
//   none, so its payouts no rule matches are declined) and its `[[routing.tenants.rules]]`:
//   `schemes`, `countries`, `currencies` (lists; absent: any), `amount_min`/`amount_max`
//   (decimal strings in the rule's one currency), `rail` and `fallback`.
// `[rail]` also holds the card engine's status backoff (reconcile_first_ms, reconcile_max_ms);
// the re-send and the waiting request's deadlines follow the slowest rail's timeout.
#include <toml++/toml.h>

#include "app/config.h"

namespace payoutd::app {

// Throws as load_config. Needs config.admin.tenants (the providers' tenants) read first.
void load_rails(const toml::table& root, Config& config);

}  // namespace payoutd::app
