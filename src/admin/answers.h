#pragma once
// The admin API's answers, shared by its own routes and the providers' sections (admin/section.h):
// its error envelope (serviceName "payoutd-admin"), an admin command's result in its words, a
// funder's and a credit's JSON, and showing a funding account (crediting and debiting one is
// admin/funding_requests.h). docs/admin.md is the contract.
#include <string>
#include <string_view>
#include <vector>

#include "admin/actor.h"
#include "core/json.h"
#include "engine/payouts.h"
#include "http/server.h"

namespace payoutd::admin {

inline constexpr std::string_view kService = "payoutd-admin";  // its envelopes' serviceName
inline constexpr std::size_t kIdSizeMax = 64;     // funder, client, credit and operation ids
inline constexpr std::size_t kNameSizeMax = 256;  // display names

// The admin API's error envelope (web/error_envelope.h), dated in the server's time zone.
http::Response error(int status, std::string_view code, std::string_view description);
// 400 validation.error for an id in a path that web::is_partner_id refuses.
http::Response invalid_id();
// 403 auth.role.missing: the caller lacks the role `role` the path needs.
http::Response role_missing(Role role);
// The name of a role as the API and the console write it ("viewer", "support", ...).
std::string_view role_name(Role role);
// 503 service.unavailable: the store could not be read; nothing changed, the caller may retry.
http::Response unavailable();

// Answers an engine command's result: 200 with `ok_body`, or its error as the admin API maps it
// (funder.not.found, client.not.found, currency.mismatch, id.conflict, ...).
void answer(const http::Responder& respond, const engine::AdminResult& result, std::string ok_body);

// {"funderId","displayName","currency","status","balance","reserved","available"}.
std::string render_funder(const ledger::Account& funder);
// A credit's or an operation's record: {"id","status"[,"declineCode"],"amount"[,"txnHistoryId"]}.
std::string render_record(const store::PayoutRecord& record);

// GET of the funding account `funder` of `tenant`: 404 funder.not.found, 503 when the store
// cannot be read, or its JSON once every state the read may have seen is durable.
void show_funder(engine::PayoutEngine& engine, const http::Responder& respond, const Tenant& tenant,
                 const std::string& funder);

// An outbox message with every delivery attempt: {"id","eventId","target","state","attempts",
// "nextAttemptMs","createdMs","lastResult","body" (null when secret),"attemptLog"}.
void write_outbox_message(json::Writer& w, const store::OutboxMessage& m,
                          const std::vector<store::OutboxAttempt>& attempts);
}  // namespace payoutd::admin
