#pragma once
// Every mutating call to the admin API (POST, PUT, PATCH, DELETE), whoever makes it and whatever
// route answers it (the API's own, a provider's section, routes added later), leaves entries in
// the operators' audit log, without the route knowing:
//   1. an intent entry ("http.<METHOD>", the path, outcome "started"), durable BEFORE the route
//      runs: if it cannot be written, the call is answered 503 and nothing is done;
//   2. the route runs (on this object's worker thread: the intent completes on the committer's
//      syncer thread, which must not read the store or wait);
//   3. an outcome entry (the same action and path, outcome "<status>[ <errorCode>]", detail
//      {"intent":<its seq>}), durable before the answer goes out.
// A crash between 1 and 3 leaves an intent without an outcome: the log then says that the call
// may have acted, never nothing. So no call that changed something lacks an entry. Routes that
// are jobs of their own (maker-checker, credits and debits) also write their own entry in the
// transaction of the change (admin/audit_trail.h), which names exactly what changed.
// Request bodies are never written (they may hold passwords or keys); the path and query are
// the API's ids, not secrets.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "admin/actor.h"
#include "admin/audit_trail.h"
#include "http/server.h"

namespace payoutd::admin {

class CallAudit {
 public:
  // What answers the call once its intent is durable.
  using Answer = std::function<void(http::Request&, const Actor&, const http::Responder&)>;

  // `trail` outlives this. Calls waiting for the worker beyond `queue_calls_max` are answered
  // 503 at once.
  explicit CallAudit(const AuditTrail& trail, std::size_t queue_calls_max = 1024);
  // Answers every call already queued, then joins the worker.
  ~CallAudit();
  CallAudit(const CallAudit&) = delete;
  CallAudit& operator=(const CallAudit&) = delete;

  // Whether calls with `method` are audited: POST, PUT, PATCH, DELETE.
  static bool mutating(std::string_view method);
  // Steps 1 to 3 above for `request` (copied: the caller's may go before the answer does).
  void around(const http::Request& request, const Actor& actor, http::Responder respond,
              Answer answer);

 private:
  struct Held;
  void run();
  bool post(std::function<void()> work);
  void answer_held(const std::shared_ptr<Held>& held);

  const AuditTrail& trail_;
  const std::size_t queue_calls_max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace payoutd::admin
