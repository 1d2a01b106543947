#pragma once
// The Mastercard Send connector: card payouts through Mastercard Send's v1 APIs, chosen by the
// credit's program (rails::Program): a business paying a person goes through the Disbursements
// API, a person sending to a person through the person-to-person Payment Transfer API. Every
// request is signed with Mastercard's OAuth 1.0a (rails/oauth1.h), over one HTTPS client
// (rails/https_client.h) behind a circuit breaker (rails/breaker.h).
// docs/rails.md, "Mastercard Send", says what it sends and what each answer becomes:
// - credit: POST {base}/v1/partners/{partner}/{transfers|disbursements}/payment
//   ?decline_details=true with the engine's reference as transfer_reference or
//   disbursement_reference (Mastercard's idempotency key), the program's payment type and funding
//   source, the amount in minor units with the alpha currency, the card as `pan:`
//   recipient_account_uri, the sender and recipient from the order's parties (names from the
//   cardholder when the parties have none). A 409 on the reference (it exists) is resolved by
//   retrieval by reference.
// - status: GET {base}/v1/partners/{partner}/{transfers|disbursements}?ref=<reference>.
// - APPROVED: kApproved (approval = the transaction's retrieval_reference); DECLINED: kDeclined
//   (network_status_code and its description); PENDING: kProcessing; UNKNOWN or ERROR: kUnknown;
//   REVERSED or CANCELLED: kDeclined (logged). A 404 of the retrieval is kNotFound only once
//   `not_found_after_ms` have passed since the last send of the reference ended (and since the
//   connector started: an earlier process may have sent it); kUnknown before.
// - Not sent (HttpsResponse::sent false) or the circuit open: kNotSent. No answer, 429, 5xx:
//   kUnknown. 400, 401, 403 (Mastercard refused our own request: configuration or a bug):
//   kNotSent and an operator alert in the log (reason codes only: never the card or the key).
// The signing key is read from a file at construction; it is never logged.
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "rails/breaker.h"
#include "rails/connector.h"
#include "rails/rail.h"
#include "rails/rail_stats.h"

namespace payoutd::rails {

struct MastercardSendOptions {
  std::string name = "mastercard-send";
  // Mastercard's base URL up to the API's version, without the default port: e.g.
  // https://sandbox.api.mastercard.com/send (MTF), https://api.mastercard.com/send (production).
  std::string base_url;
  std::string partner_id;
  std::string consumer_key;
  std::string signing_key_file;  // PEM RSA private key (converted from Mastercard's .p12)
  std::string ca_file;           // empty: the system's CAs
  int connections_max = 8;
  int queue_max = 256;
  std::int64_t connect_timeout_ms = 5000;
  // Above Mastercard's own 40 s wait for the receiving network, so that its UNKNOWN arrives.
  std::int64_t timeout_ms = 50000;
  BreakerOptions breaker;
  // Mastercard's longest processing (40 s) plus our timeout, with a margin.
  std::int64_t not_found_after_ms = 120000;
  // Person-to-person Payment Transfers: the funding source of the sender's account, and the
  // payment type the partner is enrolled for (P2P A2A CBP; empty: not sent).
  std::string funding_source = "DEBIT";  // CREDIT DEBIT PREPAID DEPOSIT_ACCOUNT ...
  std::string payment_type = "P2P";
  // Disbursements: the business's funding source (Mastercard's default: DEPOSIT_ACCOUNT, the
  // business's bank account; a raw: sender_account_uri needs one other than CREDIT, DEBIT or
  // PREPAID) and payment type (BDB business disbursement, GDB, AMS, CBP, B2B; empty: not sent).
  std::string disbursement_funding_source = "DEPOSIT_ACCOUNT";
  std::string disbursement_payment_type = "BDB";
  // The account the payouts are funded from: a disbursement's always (the business's), a
  // transfer's when the parties give no sender_wallet_id. E.g. acct-ref:<id>, raw:<account>.
  std::string sender_account_uri;
  std::string payment_origination_country;  // ISO 3166 alpha-3; empty: not sent
};

// What the connector needs from a payment and its answers, as pure functions (tests).
namespace mastercard {

// The Send API a program's credits go to, and the names its documents use.
struct Api {
  std::string_view collection;  // under the partner's path: "transfers", "disbursements"
  std::string_view request;     // the POST body's wrapper: "payment_transfer", ...
  std::string_view reference;   // the idempotency key: "transfer_reference", ...
  std::string_view resource;    // an answer's: {"transfer":{...}}, a list's "transfer": [...]
};
const Api& api_of(Program program);

// Whether a reference fits transfer_reference and disbursement_reference (6-40 characters) within
// the characters that every Mastercard signer encodes alike: [A-Za-z0-9._~-] (the engine's UUIDs
// do).
bool reference_fits(std::string_view reference);

// The JSON body of the payment of `order` for its program's API; empty with `problem` set when
// the order cannot be sent (a reference that does not fit, no recipient name).
std::string payment_body(const CreditOrder& order, const MastercardSendOptions& options,
                         std::string* problem);

// The answer a document of the program's API gives ({"transfer":{...}}, {"disbursement":{...}},
// or a retrieval's list of them). Null when the body is not one (then the caller treats the call
// as unanswered).
std::unique_ptr<Answer> answer_of(std::string_view body, Program program, std::int64_t now_ms);

// "Source ReasonCode: Description; ..." of an {"Errors":{"Error":[...]}} body, each field
// shortened, for the operator's log; empty when the body is not one.
std::string errors_summary(std::string_view body);

}  // namespace mastercard

class MastercardSendRail final : public NetworkRail {
 public:
  // Throws std::runtime_error (start-up) when an option is missing or the key cannot be read.
  MastercardSendRail(MastercardSendOptions options, const Clock& clock);
};

}  // namespace payoutd::rails
