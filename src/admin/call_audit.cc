#include "admin/call_audit.h"

#include <spdlog/spdlog.h>

#include "admin/answers.h"
#include "core/json.h"

namespace payoutd::admin {
namespace {

// "<status>" or "<status> <errorCode>" of an answer in the admin envelope.
std::string outcome_of(const http::Response& r) {
  std::string outcome = std::to_string(r.status);
  if (r.status < 400) return outcome;
  const json::ParseResult parsed = json::parse(r.body);
  if (!parsed.value || !parsed.value->is_object()) return outcome;
  if (const json::Value* code = parsed.value->find("errorCode"); code && code->is_string()) {
    outcome.append(1, ' ').append(code->as_string());
  }
  return outcome;
}

std::string intent_detail(std::int64_t seq) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("intent").integer(seq).end_object();
  return out;
}

}  // namespace

struct CallAudit::Held {
  http::Request request;
  Actor actor;
  http::Responder respond;
  Answer answer;
  std::int64_t intent_seq = 0;
};

CallAudit::CallAudit(const AuditTrail& trail, std::size_t queue_calls_max)
    : trail_(trail), queue_calls_max_(queue_calls_max), worker_([this] { run(); }) {}

CallAudit::~CallAudit() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

bool CallAudit::mutating(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

void CallAudit::around(const http::Request& request, const Actor& actor, http::Responder respond,
                       Answer answer) {
  auto held = std::make_shared<Held>(Held{request, actor, std::move(respond), std::move(answer)});
  const std::string path(request.path());
  trail_.record(actor, {"http." + request.method, path, "started", {}},
                [this, held](std::int64_t seq) {
                  if (seq == 0) return held->respond(unavailable());
                  held->intent_seq = seq;
                  if (!post([this, held] { answer_held(held); })) held->respond(unavailable());
                });
}

void CallAudit::answer_held(const std::shared_ptr<Held>& held) {
  const AuditTrail& trail = trail_;
  http::Responder with_outcome = [&trail, held](http::Response r) {
    auto answer = std::make_shared<http::Response>(std::move(r));
    AuditFacts facts{"http." + held->request.method, std::string(held->request.path()),
                     outcome_of(*answer), intent_detail(held->intent_seq)};
    // The answer goes out even when the outcome cannot be written: the intent is durable, and
    // the log then shows the call as possibly done.
    trail.record(held->actor, std::move(facts),
                 [held, answer](std::int64_t) { held->respond(std::move(*answer)); });
  };
  try {
    held->answer(held->request, held->actor, with_outcome);
  } catch (const std::exception& e) {
    // The server's catch-all does not reach this thread: the same last resort here.
    spdlog::error("admin call {} {} failed: {}", held->request.method,
                  std::string(held->request.path()), e.what());
    with_outcome(error(500, "internal.error", "internal error"));
  }
}

bool CallAudit::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= queue_calls_max_) return false;
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

void CallAudit::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and every queued call answered
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace payoutd::admin
