#include "admin/requests.h"

#include <charconv>

#include "admin/answers.h"
#include "core/assert.h"
#include "core/json.h"
#include "engine/numbered_records.h"
#include "engine/operator_log.h"
#include "engine/operator_records.h"
#include "web/api.h"

namespace payoutd::admin {
namespace {

using engine::kOperatorRequest;
using engine::kOperatorRequestCounter;
using engine::kOperatorRequestIndex;
using engine::numbered_key;

constexpr std::string_view kCounterKey = "last";

// The record key of the request a caller's idempotency id names.
std::string index_key(const Request& r) {
  std::string key = r.kind;
  key.append(1, engine::kFieldSeparator).append(r.tenant);
  key.append(1, engine::kFieldSeparator).append(r.external_id);
  return key;
}

// Whether `a` asks exactly what `b` does (the same idempotency id again).
bool same_request(const Request& a, const Request& b) {
  return a.kind == b.kind && a.tenant == b.tenant && a.subject == b.subject &&
         a.external_id == b.external_id && a.amount == b.amount && a.params == b.params;
}

std::string target_of(const Request& r) { return "request:" + std::to_string(r.id); }

// The audit entry's detail: what the request asks (never a secret: kinds keep none in params).
std::string detail_of(const Request& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  if (r.id > 0) w.key("request").integer(r.id);
  w.key("kind").string(r.kind).key("tenant").string(r.tenant).key("subject").string(r.subject);
  w.key("externalId").string(r.external_id);
  if (r.amount) web::write_amount(w, "amount", r.amount->minor, r.amount->currency);
  w.end_object();
  return out;
}

KindAnswer refusal(int status, std::string code, std::string detail) {
  return {status, std::move(code), std::move(detail), {}};
}

KindAnswer log_damaged() {
  return refusal(503, "service.unavailable",
                 "the operator audit log's head is damaged: nothing was done (payoutd audit)");
}

// A request id as the counter and the index store it; 0 when the record is damaged.
std::int64_t stored_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && end == text.data() + text.size() ? id : 0;
}

std::optional<Request> load(store::WriteTxn& txn, std::int64_t id) {
  const auto stored = txn.find_record("", kOperatorRequest, numbered_key(id));
  return stored ? parse_request(*stored) : std::nullopt;
}

std::int64_t next_request_id(store::WriteTxn& txn) {
  const auto last = txn.find_record("", kOperatorRequestCounter, kCounterKey);
  const std::int64_t id = (last ? stored_id(*last) : 0) + 1;
  if (last) {
    txn.update_record("", kOperatorRequestCounter, kCounterKey, std::to_string(id));
  } else {
    txn.insert_record("", kOperatorRequestCounter, kCounterKey, std::to_string(id));
  }
  return id;
}

void answer_job(const http::Responder& respond, const KindAnswer& a, const store::Status& status) {
  if (!status.ok) return respond(unavailable());
  if (a.refused()) return respond(error(a.status, a.error_code, a.detail));
  http::Response r;
  r.status = a.status;
  r.body = a.body;
  respond(std::move(r));
}

// Answers once what the job carried out is visible where it is read (RequestKind::settle).
void settle_and_answer(const RequestKind& kind, const http::Responder& respond, const KindAnswer& a,
                       const store::Status& status) {
  if (!status.ok || a.refused()) return answer_job(respond, a, status);
  kind.settle([respond, a, status] { answer_job(respond, a, status); });
}

}  // namespace

struct Requests::SubmitInput {
  Request draft;
  Actor actor;
  const RequestKind* kind;
  std::int64_t ttl_ms;
  std::string index;
};

std::optional<std::string> RequestKind::waits(
    store::WriteTxn&, const Request& request, const Actor&,
    const std::function<bool(const Amount&)>& above) const {
  if (request.amount && !above(*request.amount)) return std::nullopt;
  return std::string();
}

struct Requests::DecideInput {
  Request declared;  // as read before the job: only its footprint; the job reads it again
  Decision decision;
  Actor actor;
  const RequestKind* kind;
};

Requests::Requests(const AuditTrail& trail, const store::Store& store, const Clock& clock,
                   MakerCheckerOptions options)
    : trail_(trail), store_(store), clock_(clock), options_(std::move(options)) {}

void Requests::add_kind(const RequestKind* kind) {
  const bool added = kinds_.emplace(std::string(kind->name()), kind).second;
  PAYOUTD_ASSERT(added, "two request kinds of one name");
}

const RequestKind* Requests::kind(std::string_view name) const {
  const auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second;
}

bool Requests::needs_approval(const Amount& amount) const {
  for (const Amount& threshold : options_.approval_thresholds) {
    if (threshold.currency == amount.currency) return amount.minor > threshold.minor;
  }
  return true;
}

void Requests::submit(Request draft, const Actor& actor, const http::Responder& respond) const {
  const RequestKind* k = kind(draft.kind);
  PAYOUTD_ASSERT(k != nullptr, "a request of a kind that was never added");
  std::string index = index_key(draft);
  SubmitInput input{std::move(draft), actor, k, options_.request_ttl_s * 1000, std::move(index)};
  auto job = engine::make_job<KindAnswer>(
      std::move(input),
      [](const SubmitInput& in, store::Footprint& f) { in.kind->declare(in.draft, f); },
      [this](const SubmitInput& in, store::WriteTxn& txn, std::int64_t now_ms) {
        return make_or_do(in, txn, now_ms);
      },
      [respond, k](const KindAnswer& a, const store::Status& status) {
        settle_and_answer(*k, respond, a, status);
      });
  if (!trail_.committer().submit(std::move(job))) respond(unavailable());
}

KindAnswer Requests::make_or_do(const SubmitInput& in, store::WriteTxn& txn,
                                std::int64_t now_ms) const {
  if (!engine::operator_log_writable(txn)) return log_damaged();
  const auto indexed = txn.find_record("", kOperatorRequestIndex, in.index);
  if (indexed) {
    const std::optional<Request> made = load(txn, stored_id(*indexed));
    const bool renew =
        made && in.kind->renews_decided() && shown_status(*made, now_ms) != "pending";
    if (!renew && made && same_request(*made, in.draft)) {
      return {202, {}, {}, render(*made, now_ms)};
    }
    if (!renew) return refusal(409, "id.conflict", "the id was used with another request");
  }
  if (auto answered = in.kind->check(txn, in.draft)) return std::move(*answered);
  std::optional<std::string> reason = in.kind->waits(
      txn, in.draft, in.actor, [this](const Amount& a) { return needs_approval(a); });
  if (!reason) {
    KindAnswer done = in.kind->apply(txn, in.draft, now_ms);
    if (done.refused()) return done;
    trail_.append(
        txn, in.actor,
        {std::string(in.kind->name()), in.kind->target(in.draft), "done", detail_of(in.draft)},
        now_ms);
    return done;
  }
  Request r = in.draft;
  r.reason = std::move(*reason);
  r.id = next_request_id(txn);
  r.status = "pending";
  r.requested_by = in.actor.id;
  r.created_ms = now_ms;
  r.expires_ms = now_ms + in.ttl_ms;
  // Two nodes making a request at once both insert this id: one commit fails as a conflict and
  // runs again, finding the other's.
  txn.insert_record("", kOperatorRequest, numbered_key(r.id), request_json(r));
  if (indexed) {
    txn.update_record("", kOperatorRequestIndex, in.index, std::to_string(r.id));
  } else {
    txn.insert_record("", kOperatorRequestIndex, in.index, std::to_string(r.id));
  }
  trail_.append(txn, in.actor, {"request.create", target_of(r), "pending", detail_of(r)}, now_ms);
  return {202, {}, {}, render(r, now_ms)};
}

void Requests::decide(std::int64_t id, Decision decision, const Actor& actor,
                      const http::Responder& respond) const {
  const auto stored = store_.get_record("", kOperatorRequest, numbered_key(id));
  if (!stored.ok()) return respond(unavailable());
  const std::optional<Request> declared = *stored ? parse_request(**stored) : std::nullopt;
  if (!declared) return respond(error(404, "request.not.found", "no such request"));
  const RequestKind* k = kind(declared->kind);
  if (!k) return respond(error(409, "request.unsupported", "this build cannot carry it out"));
  auto job = engine::make_job<KindAnswer>(
      DecideInput{*declared, decision, actor, k},
      [](const DecideInput& in, store::Footprint& f) { in.kind->declare(in.declared, f); },
      [this](const DecideInput& in, store::WriteTxn& txn, std::int64_t now_ms) {
        return decide_in(in, txn, now_ms);
      },
      [respond, k](const KindAnswer& a, const store::Status& status) {
        settle_and_answer(*k, respond, a, status);
      });
  if (!trail_.committer().submit(std::move(job))) respond(unavailable());
}

KindAnswer Requests::decide_in(const DecideInput& in, store::WriteTxn& txn,
                               std::int64_t now_ms) const {
  if (!engine::operator_log_writable(txn)) return log_damaged();
  std::optional<Request> stored = load(txn, in.declared.id);
  if (!stored) return refusal(404, "request.not.found", "no such request");
  Request& r = *stored;
  if (r.requested_by == in.actor.id) {
    return refusal(403, "request.own", "a request is decided by someone else");
  }
  if (r.status != "pending") {
    return refusal(409, "request.decided", "the request is " + r.status + " already");
  }
  if (now_ms >= r.expires_ms) {
    close(r, "expired", "request.expire", in.actor, txn, now_ms);
    return refusal(409, "request.expired", "the request expired before it was decided");
  }
  if (in.decision == Decision::kReject) {
    close(r, "rejected", "request.reject", in.actor, txn, now_ms);
    return {200, {}, {}, render(r, now_ms)};
  }
  // An earlier outcome of the same operation (check) counts as carried out; a refusal leaves the
  // request pending, and nothing written.
  std::optional<KindAnswer> done = in.kind->check(txn, r);
  KindAnswer carried = done ? std::move(*done) : in.kind->apply(txn, r, now_ms);
  if (carried.refused()) return carried;
  r.result = std::move(carried.body);
  close(r, "approved", "request.approve", in.actor, txn, now_ms);
  return {200, {}, {}, render(r, now_ms)};
}

void Requests::close(Request& r, std::string status, std::string action, const Actor& actor,
                     store::WriteTxn& txn, std::int64_t now_ms) const {
  r.status = std::move(status);
  r.decided_by = actor.id;
  r.decided_ms = now_ms;
  txn.update_record("", kOperatorRequest, numbered_key(r.id), request_json(r));
  const std::string outcome = r.status == "approved" ? "done" : r.status;
  trail_.append(txn, actor, {std::move(action), target_of(r), outcome, detail_of(r)}, now_ms);
}

void Requests::show(std::int64_t id, const http::Responder& respond) const {
  const auto stored = store_.get_record("", kOperatorRequest, numbered_key(id));
  if (!stored.ok()) return respond(unavailable());
  const std::optional<Request> r = *stored ? parse_request(**stored) : std::nullopt;
  if (!r) return respond(error(404, "request.not.found", "no such request"));
  http::Response answer;
  answer.body = render(*r, clock_.now_ms());
  engine::answer_when_durable(trail_.committer(), respond, std::move(answer), unavailable);
}

void Requests::list(const RequestQuery& query, const http::Responder& respond) const {
  std::int64_t from = query.before_id;
  if (from <= 0) {
    const auto last = store_.get_record("", kOperatorRequestCounter, kCounterKey);
    if (!last.ok()) return respond(unavailable());
    from = (*last ? stored_id(**last) : 0) + 1;
  }
  const std::int64_t now_ms = clock_.now_ms();
  http::Response answer;
  json::Writer w(answer.body);
  w.begin_object().key("requests").begin_array();
  std::size_t taken = 0;
  const auto next = engine::scan_newest_first(
      store_, kOperatorRequest, from, kRequestScanMax, [&](std::int64_t, const std::string& value) {
        const std::optional<Request> r = parse_request(value);
        if (!r) return true;
        if (!query.status.empty() && shown_status(*r, now_ms) != query.status) return true;
        w.raw(render(*r, now_ms));
        return ++taken < query.limit;
      });
  if (!next.ok()) return respond(unavailable());
  w.end_array();
  if (*next > 0) w.key("nextBefore").string(std::to_string(*next));
  w.end_object();
  engine::answer_when_durable(trail_.committer(), respond, std::move(answer), unavailable);
}

}  // namespace payoutd::admin
