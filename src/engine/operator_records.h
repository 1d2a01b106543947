#pragma once
// The store records of the operators' plane that engine/operator_log.h and
// engine/operator_requests.h keep: all of tenant "" (they belong to no partner), written only
// inside a committer job, so every node sees them and nothing is acknowledged before they are
// durable. One list, so that no other record kind takes these names.
#include <string_view>

namespace payoutd::engine {

// One entry of the operators' audit log; key: its sequence number, 20 digits, zero-padded (so
// key order is sequence order).
inline constexpr std::string_view kOperatorAuditEntry = "operator-audit";
// The log's head, key kOperatorAuditHead too: the newest entry's sequence number and hash,
// updated in the transaction that appends it (removing the newest entries shows).
inline constexpr std::string_view kOperatorAuditHead = "operator-audit-head";
// A maker-checker request; key: its id, 20 digits, zero-padded.
inline constexpr std::string_view kOperatorRequest = "operator-request";
// The request a partner's idempotency id names; key: "<kind>\x1f<tenant>\x1f<id>", value: the
// request's id.
inline constexpr std::string_view kOperatorRequestIndex = "operator-request-index";
// The last request id handed out; key kOperatorRequestCounter.
inline constexpr std::string_view kOperatorRequestCounter = "operator-request-counter";

}  // namespace payoutd::engine
