// The admin API's routes of the operators' audit log and of maker-checker's requests
// (docs/admin.md, "The operators' audit log and maker-checker on money").
#include "admin/answers.h"
#include "admin/api.h"
#include "admin/query_params.h"
#include "core/json.h"
#include "core/time_format.h"
#include "engine/operator_log.h"
#include "http/query.h"

namespace payoutd::admin {
namespace {

constexpr std::size_t kFilterSizeMax = 256;  // an audit filter's text

bool text_param(const http::QueryParam& p, std::string* out) {
  if (!p.valid || p.value.size() > kFilterSizeMax) return false;
  *out = p.value;
  return true;
}

void write_entry(json::Writer& w, const engine::OperatorEntry& e) {
  w.begin_object().key("seq").integer(e.seq);
  w.key("at").string(format_iso8601(e.at_ms, 0)).key("atMs").integer(e.at_ms);
  w.key("actor").string(e.actor).key("via").string(e.via).key("address").string(e.address);
  w.key("action").string(e.action).key("target").string(e.target);
  w.key("outcome").string(e.outcome);
  const json::ParseResult detail = json::parse(e.detail);
  if (detail.value && detail.value->is_object()) {
    w.key("detail").value(*detail.value);
  } else {
    w.key("detail").begin_object().end_object();
  }
  w.key("prev").string(e.prev).key("hash").string(e.hash).end_object();
}

// The {id} of requests/{id}[/...]; answers 400 itself and returns nullopt when malformed.
std::optional<std::int64_t> request_id(const std::string& text, const http::Responder& respond) {
  const std::optional<std::int64_t> id = positive_number(text);
  if (!id) respond(error(400, "validation.error", "id: a request's id (digits)"));
  return id;
}

}  // namespace

void Dialect::audit_log(const Call& call) {
  const std::string_view q = call.request.query();
  engine::OperatorLogQuery query;
  const auto before = number_param(http::query_param(q, "before"), 0);
  const auto limit = number_param(http::query_param(q, "limit"), 50);
  const auto from = time_param(http::query_param(q, "from"), false);
  const auto to = time_param(http::query_param(q, "to"), true);
  if (!text_param(http::query_param(q, "actor"), &query.actor) ||
      !text_param(http::query_param(q, "action"), &query.action) ||
      !text_param(http::query_param(q, "target"), &query.target) ||
      !text_param(http::query_param(q, "outcome"), &query.outcome) || !before || !limit || !from ||
      !to || *limit > std::int64_t{engine::kOperatorLogPageMax}) {
    return call.respond(error(400, "validation.error",
                              "actor, action, target, outcome: text; from, to: YYYY-MM-DD or ms; "
                              "before: an entry's seq; limit: 1 to 200"));
  }
  query.before_seq = *before;
  query.limit = static_cast<std::size_t>(*limit);
  query.from_ms = *from;
  query.to_ms = *to;
  const auto page = engine::operator_log_page(store_, query);
  if (!page.ok()) return call.respond(unavailable());
  http::Response r;
  json::Writer w(r.body);
  w.begin_object().key("entries").begin_array();
  for (const engine::OperatorEntry& e : page->entries) write_entry(w, e);
  w.end_array();
  if (page->next_before_seq > 0) w.key("nextBefore").integer(page->next_before_seq);
  w.end_object();
  engine_.answer_when_durable(call.respond, std::move(r), unavailable);
}

void Dialect::list_requests(const Call& call) {
  const std::string_view q = call.request.query();
  const http::QueryParam status = http::query_param(q, "status");
  const auto before = number_param(http::query_param(q, "before"), 0);
  const auto limit = number_param(http::query_param(q, "limit"), 50);
  static constexpr std::string_view kStatuses[] = {"pending", "approved", "rejected", "expired"};
  const bool status_ok =
      status.valid && (!status.present || std::find(std::begin(kStatuses), std::end(kStatuses),
                                                    status.value) != std::end(kStatuses));
  if (!status_ok || !before || !limit || *limit > std::int64_t{kRequestPageMax}) {
    return call.respond(error(400, "validation.error",
                              "status: pending, approved, rejected or expired; before: a "
                              "request's id; limit: 1 to 200"));
  }
  requests_.list({status.value, *before, static_cast<std::size_t>(*limit)}, call.respond);
}

void Dialect::show_request(const Call& call) {
  if (const auto id = request_id(call.path[1], call.respond)) requests_.show(*id, call.respond);
}

void Dialect::approve_request(const Call& call) {
  if (const auto id = request_id(call.path[1], call.respond)) {
    requests_.decide(*id, Decision::kApprove, call.actor, call.respond);
  }
}

void Dialect::reject_request(const Call& call) {
  if (const auto id = request_id(call.path[1], call.respond)) {
    requests_.decide(*id, Decision::kReject, call.actor, call.respond);
  }
}

}  // namespace payoutd::admin
