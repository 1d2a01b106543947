#pragma once
// What a log line says beside its message about the work in progress on its thread: the request
// being handled (its id; the provider, tenant and payout once its dialect knows them), or the
// outbox message being delivered (the request that caused it).
//
// Contract:
// - Whoever starts a piece of work opens a Scope for it on its thread (app/access_log.cc around a
//   request's handler, and around the request's access line; outbox/dispatcher.cc around its
//   lines about one message). Scopes nest; closing one restores the one before. A thread without
//   an open Scope has no context (current() is nullptr).
// - The log formatter (app/log_format.h) reads current() for every line, on the thread that logs
//   it: work handed to another thread (the committer, a transport) carries no context unless
//   that thread opens a Scope of its own.
// - Dialects name what a request is about with annotate(); outside a Scope it does nothing, so it
//   is safe from any thread. Nothing here is ever a secret: ids and names only.
#include <cstdint>
#include <string>
#include <string_view>

namespace payoutd::log {

struct Context {
  std::string_view request_id;  // empty: none; must outlive the Scope
  std::string provider;         // a provider's name (Tenant::provider)
  std::string tenant;           // "<provider>:<id>" (Tenant::key()), or empty
  std::string payout_id;        // the partner's id of the payout, or empty
  // Only the access line's (status 0: any other line).
  std::string_view method, path;  // the path without its query
  int status = 0;
  std::int64_t latency_us = 0;
};

// The innermost open Scope's context on this thread, or nullptr.
Context* current();

class Scope {
 public:
  explicit Scope(Context& context);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Context* previous_;
};

// Names the provider of the current request.
void annotate(std::string_view provider);
// Names the provider, the tenant (its id within the provider) and, when not empty, the payout
// (the partner's id) the current request is about.
void annotate(std::string_view provider, std::string_view tenant_id,
              std::string_view payout_id = {});

}  // namespace payoutd::log
