#pragma once
// The Visa Direct connector: card payouts as Push Funds Transactions (original credit
// transactions, OCT) of Visa Direct's Funds Transfer API, over one HTTPS client with two-way TLS
// (the client certificate and key Visa issues) and HTTP Basic (the project's user id and
// password) (rails/https_client.h), behind a circuit breaker (rails/breaker.h).
// docs/rails.md, "Visa Direct", says what it sends and what each answer becomes:
// - credit: POST {base}/visadirect/fundstransfer/v1/pushfundstransactions. The transaction's key
//   at Visa (acquiringBin + retrievalReferenceNumber + systemsTraceAuditNumber) is derived from
//   the engine's reference alone (visa::identifiers_of), so every process derives the same key.
// - Visa documents no answer from the first for a repeat after completion, so the connector
//   never posts a push that may have reached Visa: a credit whose order says an earlier send may
//   have been made (CreditOrder::sent_before) first looks for it (below), and is posted only when
//   Visa conclusively has none.
// - Looking: GET …/pushfundstransactions/{statusIdentifier} when this process holds the status
//   identifier of a 202 or 303; else the Transaction Query
//   (GET {base}/visadirect/v1/transactionquery?acquiringBIN=&rrn=&stan=). No record is kNotFound
//   only once `not_found_after_ms` have passed since the last send of the reference ended (and
//   since the connector started: an earlier process may have sent it); kUnknown before.
// - 200 with actionCode 00: kApproved, approval = the transaction's retrieval reference number;
//   another action code: kDeclined with it (94, a duplicate transmission, is kUnknown: an
//   earlier transaction holds the key, and looking decides). 202 and 303: kProcessing (the status
//   identifier kept for status()). Query records: COMPLETED as the action code, IN_PROGRESS
//   kProcessing, FAILED (received and rejected by Visa) kDeclined with code "FAILED".
// - Not sent (HttpsResponse::sent false) or the circuit open: kNotSent. No answer, 429, 5xx, an
//   unreadable answer: kUnknown. 400, 401, 403 (Visa refused our own request: configuration or a
//   bug): kNotSent and an operator alert in the log (Visa's error code and message only: never
//   the card or the password).
// - A card check (CreditOrder::verification) is declined (57): a push funds transaction
//   credits, it cannot debit and return. A person-to-person credit without a named sender is
//   declined (30) without sending (visa::order_fault).
// - businessApplicationId: PP for a person-to-person credit (CreditOrder::program), the
//   configured one (FD by default) for a disbursement.
// The password is read at construction (from `password_file` when set); it is never logged.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "rails/breaker.h"
#include "rails/connector.h"
#include "rails/rail.h"
#include "rails/rail_stats.h"

namespace payoutd::rails {

struct VisaDirectOptions {
  std::string name = "visa-direct";
  // Visa's API host without a path: https://sandbox.api.visa.com, https://api.visa.com.
  std::string base_url;
  std::string ca_file;           // empty: the system's CAs
  std::string client_cert_file;  // PEM: the two-way TLS certificate Visa issued for the project
  std::string client_key_file;   // PEM: its private key
  std::string user_id;           // the project's user id (HTTP Basic)
  std::string password_file;     // a file holding the password (a trailing newline is dropped)
  std::string password;          // or the password itself (from the environment); never logged
  // Message Level Encryption (JWE, rails/jwe.h), on when mle_key_id is given: the key id Visa
  // issued, Visa's MLE server certificate (requests are sealed to it), and our own private key
  // (Visa seals its answers to its public half).
  std::string mle_key_id;
  std::string mle_server_cert_file;
  std::string mle_private_key_file;
  int connections_max = 8;
  int queue_max = 256;
  std::int64_t connect_timeout_ms = 5000;
  // Sent as X-Transaction-Timeout-MS: Visa answers 202 with a status identifier after it (its
  // default is 30 s). Below timeout_ms, so that the 202 arrives rather than our timeout.
  std::int64_t transaction_timeout_ms = 30000;
  std::int64_t timeout_ms = 40000;
  BreakerOptions breaker;
  // Visa's longest processing before a 202 (transaction_timeout_ms) plus our timeout, with a
  // margin: a Transaction Query that finds nothing sooner may have overtaken the push.
  std::int64_t not_found_after_ms = 120000;
  // The project's enrolment with Visa.
  std::string acquiring_bin;          // 6 to 11 digits
  std::string acquirer_country_code;  // ISO 3166 numeric, 3 digits
  // A disbursement's (a business paying a person): FD funds disbursement, or MD, GD, PD, OG...
  // A person-to-person credit is always PP (docs/rails.md, "Visa Direct").
  std::string business_application_id = "FD";
  std::string source_of_funds_code = "05";  // 01-06; 05: a deposit account (Visa: disbursements)
  std::string merchant_category_code;       // 4 digits; empty: not sent (the enrolment's)
  // The card acceptor: the originator as enrolled with Visa.
  std::string card_acceptor_name;         // at most 25 characters
  std::string card_acceptor_terminal_id;  // at most 8
  std::string card_acceptor_id_code;      // at most 15
  std::string card_acceptor_country;      // ISO 3166 alpha-3
  std::string card_acceptor_state;        // USA and CAN: required
  std::string card_acceptor_zip_code;     // USA and CAN: required
  std::string card_acceptor_county;       // USA: required
  // The sender when the order's parties name none (a disbursement's sender is the originator).
  std::string sender_name;          // at most 30 characters
  std::string sender_country_code;  // ISO 3166 alpha-3 or numeric
  std::string sender_state_code;    // USA and CAN
  // localTransactionDateTime is the originator's local time: UTC plus this many minutes.
  int local_utc_offset_minutes = 0;
};

// What the connector needs from a push and its answers, as pure functions (tests).
namespace visa {

// The transaction's key at Visa, from the reference alone (docs/rails.md, "Visa Direct").
struct Identifiers {
  std::string stan;  // systemsTraceAuditNumber: 6 digits
  std::string rrn;   // retrievalReferenceNumber: 12 digits, ydddhhnnnnnn
};
Identifiers identifiers_of(std::string_view reference);

// The amount as Visa's reference prescribes it: a decimal in major units with the currency's
// fraction digits (at most 3, the third one zero) and at most 999999999.999. Empty with
// `problem` set when the amount cannot be written so.
std::string amount_text(const Amount& amount, std::string* problem);

// The business application id of a credit: PP for a person-to-person credit, the configured
// one for a disbursement.
std::string business_application_id(const CreditOrder& order, const VisaDirectOptions& options);

// What makes a push of `order` impossible whatever the rail's configuration: a person-to-person
// credit without the sender's first and last name (a money transfer names its sender, the
// person; the originator configured for disbursements is not). Empty when none.
std::string order_fault(const CreditOrder& order);

// The JSON body of the push of `order` at `now_ms`; empty with `problem` set when the order
// cannot be sent (the amount, no recipient name, no sender).
std::string push_body(const CreditOrder& order, const VisaDirectOptions& options,
                      std::int64_t now_ms, std::string* problem);

// The answer of a 200 push or status body ({transactionIdentifier, actionCode, approvalCode…});
// null when it is not one. `rrn`: the transaction's, the approval.
std::unique_ptr<Answer> push_answer_of(std::string_view body, const std::string& rrn,
                                       std::int64_t now_ms);

// The statusIdentifier of a 202 or 303 body; empty when it has none.
std::string status_identifier_of(std::string_view body);

// The answer of a Transaction Query's 200 body (an array of records); null when it is not one.
// An empty array is the caller's "no record".
std::unique_ptr<Answer> query_answer_of(std::string_view body, const std::string& rrn,
                                        std::int64_t now_ms, bool* empty);

// English for an action code ("05": "Do not honor"); "action code <cc>" for another.
std::string action_code_text(std::string_view code);

// "<code>: <message>" of Visa's error documents ({"responseStatus":{…}} or {"errorMessage"}),
// shortened, card numbers masked, for the operator's log; empty when the body is neither.
std::string error_summary(std::string_view body);

}  // namespace visa

class VisaDirectRail final : public NetworkRail {
 public:
  // Throws std::runtime_error (start-up) when an option is missing or the password cannot be
  // read.
  VisaDirectRail(VisaDirectOptions options, const Clock& clock);
};

}  // namespace payoutd::rails
