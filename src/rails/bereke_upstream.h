#pragma once
// The upstream Bereke connector: payoutd as a partner of a bank that speaks Bereke Payouts Module
// v2 (seed 003; docs/rails.md, "Upstream Bereke"), over one HTTPS client (rails/https_client.h)
// behind a circuit breaker (rails/breaker.h). The card payouts it is given go to the bank's
// `performPayout.do`, paid from the partnership's transit account there.
// - credit: POST {base}/performPayout.do with the partner's userName and password in the body
//   (the module's only authentication), orderNumber = the engine's reference without its '-'
//   (a UUID's 32 hex digits: the module's orderNumber has at most 32 characters, and the module
//   answers the same orderNumber from its first order, so a re-send never pays twice), amount in
//   minor units, currency "398", the card as target.card.pan, and client.name when the cardholder
//   fits the module's pattern. Only KZT credits: another currency, and a card check
//   (CreditOrder::verification, which the module has no API for), are declined before sending.
// - status: POST {base}/getPayoutStatus.do by orderNumber.
// - orderStatus 2: kApproved (approval = the operation's refNum); 6: kDeclined (the operation's
//   resultCode and description); 0, 1, 5: kProcessing; 3, 4: kDeclined (logged).
//   "Order not found" is kNotFound once `not_found_after_ms` have passed since the last send of
//   the reference ended and since the connector started (rails/quiet_period.h); kUnknown before.
// - The card's own refusals (502/204 "Unsupported pan", "Cannot find any bin range", 502/400
//   "bin is empty", 502/98 "Mrbin", 400/98 "Сard affiliation", 502/99 "3DS") are kDeclined with
//   the module's code and message. The module refusing our own request (401/90, 400/98 validation,
//   500/99 "No merchant settings" or "Failed to parse", 404, 429) is kNotSent and an operator
//   alert in the log. 504/91, other 5xx, no answer after sending and an unreadable answer:
//   kUnknown. Not sent, or the circuit open: kNotSent. docs/rails.md has the whole table.
// The password is never logged; neither is the card (the module's messages are logged masked).
#include <memory>
#include <string>

#include "core/clock.h"
#include "rails/breaker.h"
#include "rails/connector.h"
#include "rails/https_client.h"
#include "rails/rail.h"
#include "rails/rail_stats.h"

namespace payoutd::rails {

struct BerekeUpstreamOptions {
  std::string name = "bereke";
  // The module's base URL up to the API version, e.g.
  // https://securepayments.berekebank.kz/payouts/api/v2 (TEST: https://3dsec.berekebank.kz/...).
  std::string base_url;
  std::string user_name;  // the partner's login the bank issued (30 characters at most)
  std::string password;   // its password: read by the config from a file or the environment
  std::string ca_file;    // empty: the system's CAs
  // http:// base URLs: only a sandbox's test upstream (HttpsClientOptions::plain_http).
  PlainHttp plain_http = PlainHttp::kRefused;
  int connections_max = 8;
  int queue_max = 256;
  std::int64_t connect_timeout_ms = 5000;
  // performPayout.do answers once the card network has; above the module's own wait for it, so
  // that its 504/91 arrives rather than our timeout.
  std::int64_t timeout_ms = 30000;
  BreakerOptions breaker;
  // The module's longest processing plus our timeout, with a margin.
  std::int64_t not_found_after_ms = 120000;
};

// What the connector sends and reads, as pure functions (tests).
namespace bereke_upstream {

// The orderNumber of a reference: its characters but '-' (a UUID gives its 32 hex digits).
// Empty when the rest is not 1 to 32 characters of [0-9A-Za-z], which the module's orderNumber
// takes.
std::string order_number(std::string_view reference);

// The JSON body of performPayout.do for `order`; empty with `problem` set when the order cannot
// be sent (a reference without an orderNumber).
std::string payout_body(const CreditOrder& order, const BerekeUpstreamOptions& options,
                        std::string* problem);
// The JSON body of getPayoutStatus.do for an orderNumber.
std::string status_body(std::string_view order_number, const BerekeUpstreamOptions& options);

// What one HTTP answer of the module says.
enum class Reading : std::uint8_t {
  kAnswer,         // an answer about the credit: `answer` (an order, or the card's refusal)
  kOrderNotFound,  // "Order not found in payout proxy": no order under the orderNumber
  kRefused,        // the module refused our request itself (credentials, configuration, a bug)
  kOrderExists,    // the orderNumber is taken by an order with other fields: its status decides
  kFailed,         // the module or a gateway behind it failed, or the answer is unreadable
};

struct Read {
  Reading reading = Reading::kFailed;
  Answer answer;        // kAnswer
  std::string summary;  // "HTTP 400 98: <message>": for the log, the card masked, bounded
};

// Reads an answer to a request about `order_number` (an order for another orderNumber is
// unreadable). `now_ms`: the answer's time when the order gives none.
Read read_answer(int http_status, std::string_view body, std::string_view order_number,
                 std::int64_t now_ms);

}  // namespace bereke_upstream

class BerekeUpstreamRail final : public NetworkRail {
 public:
  // Throws std::runtime_error (start-up) when an option is missing or does not fit.
  BerekeUpstreamRail(BerekeUpstreamOptions options, const Clock& clock);
};

}  // namespace payoutd::rails
