#include "admin/answers.h"

#include "core/json.h"
#include "web/api.h"
#include "web/error_envelope.h"

namespace payoutd::admin {

using engine::Error;

http::Response error(int status, std::string_view code, std::string_view description) {
  return web::error_response(status, kService, code, description, web::kServerUtcOffsetMinutes);
}

http::Response invalid_id() {
  return error(400, "validation.error", "id: must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
}

std::string_view role_name(Role role) {
  static constexpr std::string_view kNames[] = {"viewer", "support", "finance", "admin"};
  return kNames[static_cast<std::size_t>(role)];
}

http::Response role_missing(Role role) {
  return error(403, "auth.role.missing",
               "this needs the " + std::string(role_name(role)) + " role");
}

http::Response unavailable() { return error(503, "service.unavailable", "storage unavailable"); }

void answer(const http::Responder& respond, const engine::AdminResult& result,
            std::string ok_body) {
  switch (result.error) {
    case Error::kNone: {
      http::Response r;
      r.body = std::move(ok_body);
      return respond(std::move(r));
    }
    case Error::kSourceNotFound:
      return respond(error(404, "funder.not.found", result.detail));
    case Error::kDestinationNotFound:
      return respond(error(404, "client.not.found", result.detail));
    case Error::kCurrencyMismatch:
      return respond(error(422, "currency.mismatch", result.detail));
    case Error::kIdConflict:
      return respond(error(409, "id.conflict", result.detail));
    case Error::kInvalid:
      return respond(error(400, "validation.error", result.detail));
    case Error::kUnavailable:
      return respond(error(503, "service.unavailable", result.detail));
    case Error::kNotFound:
      return respond(error(404, "not.found", result.detail));
  }
}

std::string render_funder(const ledger::Account& a) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("funderId").string(a.code);
  w.key("displayName").string(a.owner);
  w.key("currency").string(a.currency.code());
  w.key("status").string(a.status == ledger::AccountStatus::kActive ? "ACTIVE" : "BLOCKED");
  web::write_amount(w, "balance", a.balance(), a.currency);
  web::write_amount(w, "reserved", a.debits_pending, a.currency);
  web::write_amount(w, "available", a.available(), a.currency);
  w.end_object();
  return out;
}

std::string render_record(const store::PayoutRecord& p) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("id").string(p.partner_id);
  w.key("status").string(p.status == store::PayoutStatus::kSuccess    ? "SUCCESS"
                         : p.status == store::PayoutStatus::kDeclined ? "DECLINED"
                                                                      : "PROCESSING");
  if (!p.decline_code.empty()) w.key("declineCode").string(p.decline_code);
  web::write_amount(w, "amount", p.amount, p.currency);
  if (!p.history_id.empty()) w.key("txnHistoryId").string(p.history_id);
  w.end_object();
  return out;
}

void show_funder(engine::PayoutEngine& engine, const http::Responder& respond, const Tenant& tenant,
                 const std::string& funder) {
  auto account = engine.find_account(tenant, ledger::AccountKind::kFunder, funder);
  if (!account.ok()) return respond(unavailable());
  if (!*account) return respond(error(404, "funder.not.found", "no such funder"));
  http::Response r;
  r.body = render_funder(**account);
  engine.answer_when_durable(respond, std::move(r), unavailable);
}

void write_outbox_message(json::Writer& w, const store::OutboxMessage& m,
                          const std::vector<store::OutboxAttempt>& attempts) {
  w.begin_object();
  w.key("id").integer(m.id).key("eventId").string(m.event_id).key("target").string(m.target);
  static constexpr const char* kStates[] = {"PENDING", "DELIVERED", "ABANDONED"};
  w.key("state").string(kStates[static_cast<int>(m.state)]);
  w.key("attempts").integer(m.attempts).key("nextAttemptMs").integer(m.next_attempt_ms);
  w.key("createdMs").integer(m.created_ms).key("lastResult").string(m.last_result);
  // A sealed body is the vault's ciphertext of a one-time code: no one is shown even that (nor
  // the clear body of a message to a person that an earlier version wrote unsealed).
  if (store::body_is_secret(m)) {
    w.key("body").null().key("sealed").boolean(m.sealed);
  } else {
    w.key("body").string(m.body);
  }
  w.key("attemptLog").begin_array();
  for (const store::OutboxAttempt& a : attempts) {
    w.begin_object().key("attempt").integer(a.attempt).key("atMs").integer(a.at_ms);
    w.key("durationMs").integer(a.duration_ms).key("httpStatus").integer(a.http_status);
    w.key("error").string(a.error).end_object();
  }
  w.end_array().end_object();
}

}  // namespace payoutd::admin
