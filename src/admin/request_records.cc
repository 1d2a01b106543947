// Maker-checker's requests as the store keeps them and as the admin API shows them.
#include "admin/requests.h"
#include "core/json.h"
#include "web/api.h"

namespace payoutd::admin {
namespace {

// A stored JSON object's text written as a member, when it is one.
void write_object(json::Writer& w, std::string_view key, const std::string& text) {
  if (text.empty()) return;
  const json::ParseResult parsed = json::parse(text);
  if (parsed.value && parsed.value->is_object()) w.key(key).value(*parsed.value);
}

}  // namespace

std::string_view shown_status(const Request& r, std::int64_t now_ms) {
  if (r.status == "pending" && now_ms >= r.expires_ms) return "expired";
  return r.status;
}

std::string request_json(const Request& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("id").integer(r.id).key("kind").string(r.kind);
  w.key("status").string(r.status).key("tenant").string(r.tenant);
  w.key("subject").string(r.subject).key("external_id").string(r.external_id);
  if (r.amount) {
    w.key("amount").integer(r.amount->minor).key("currency").string(r.amount->currency.code());
  }
  w.key("params").string(r.params).key("requested_by").string(r.requested_by);
  w.key("decided_by").string(r.decided_by).key("created_ms").integer(r.created_ms);
  w.key("expires_ms").integer(r.expires_ms).key("decided_ms").integer(r.decided_ms);
  w.key("result").string(r.result).key("reason").string(r.reason).end_object();
  return out;
}

std::optional<Request> parse_request(std::string_view text) {
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  const json::Value& v = *parsed.value;
  Request r;
  r.id = json::int_member(v, "id");
  if (r.id <= 0) return std::nullopt;
  r.kind = json::string_member(v, "kind");
  r.status = json::string_member(v, "status");
  r.tenant = json::string_member(v, "tenant");
  r.subject = json::string_member(v, "subject");
  r.external_id = json::string_member(v, "external_id");
  if (v.find("amount")) {
    const std::optional<Currency> currency =
        Currency::from_code(json::string_member(v, "currency"));
    if (!currency) return std::nullopt;
    r.amount = Amount{json::int_member(v, "amount"), *currency};
  }
  r.params = json::string_member(v, "params");
  r.requested_by = json::string_member(v, "requested_by");
  r.decided_by = json::string_member(v, "decided_by");
  r.created_ms = json::int_member(v, "created_ms");
  r.expires_ms = json::int_member(v, "expires_ms");
  r.decided_ms = json::int_member(v, "decided_ms");
  r.result = json::string_member(v, "result");
  r.reason = json::string_member(v, "reason");
  return r;
}

std::string Requests::render(const Request& r, std::int64_t now_ms) const {
  std::string out;
  json::Writer w(out);
  w.begin_object().key("id").string(std::to_string(r.id)).key("kind").string(r.kind);
  w.key("status").string(shown_status(r, now_ms)).key("tenant").string(r.tenant);
  const RequestKind* k = kind(r.kind);
  w.key(k ? k->subject_field() : "subject").string(r.subject);
  w.key("externalId").string(r.external_id);
  if (r.amount) web::write_amount(w, "amount", r.amount->minor, r.amount->currency);
  write_object(w, "params", r.params);
  if (!r.reason.empty()) w.key("reason").string(r.reason);
  w.key("requestedBy").string(r.requested_by);
  w.key("createdMs").integer(r.created_ms).key("expiresMs").integer(r.expires_ms);
  if (!r.decided_by.empty()) w.key("decidedBy").string(r.decided_by);
  if (r.decided_ms > 0) w.key("decidedMs").integer(r.decided_ms);
  write_object(w, "result", r.result);
  w.end_object();
  return out;
}

}  // namespace payoutd::admin
