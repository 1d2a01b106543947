#pragma once
// ecommpay dialect (seed 002): payouts registered through the Gate API
// (POST /v2/payment/payout/registration), answered at once with an acceptance, and told to the
// merchant by signed callbacks from the outbox: the registration's result (the uuid that opens
// Payment Page), and later the payout's. docs/ecommpay.md is the contract.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_certificate.h"
#include "core/json.h"
#include "core/money.h"
#include "core/network.h"
#include "core/tenant.h"
#include "engine/cards/card_payouts.h"
#include "http/server.h"

namespace payoutd::providers::ecommpay {

struct Project {
  std::int64_t id = 0;  // the tenant is {kProvider, the id in decimal}
  std::string secret_key;
  std::vector<Network>
      allowlist;  // callers' addresses (the TCP peer, or what a trusted proxy says)
  // ecommpay.projects[i].client_cert_*: the certificates its calls must present besides the
  // allowlist and the signature; refused as an address off the allowlist is.
  ClientCertificatePolicy client_certificates;
  bool payouts_enabled = true;
  // Who sends the project's payouts: the merchant itself, or persons (a person-to-person
  // program); MoneySend with a person as sender needs the parties' data (program.h).
  bool person_sender = false;
  std::string callback_url;  // empty: in the sandbox, this server's /sandbox/ecommpay/callbacks
  Currency currency;
  engine::CardLimits limits;
};

struct Options {
  bool sandbox = false;
  std::string public_url;  // the public origin ([server] public_url): the sandbox's callback sink
  std::int64_t uuid_lifetime_ms = 30 * 60 * 1000;
  std::string mail_from = "payouts@payoutd.local";  // the verification codes' sender
  std::vector<Project> projects;
};

// The provider's name: its tenants' provider, its registry line and config section.
inline constexpr std::string_view kProvider = "ecommpay";
// The tenant of project `project_id`: {kProvider, the id in decimal}.
Tenant tenant_of(std::int64_t project_id);
// The account a project's payouts are funded from: its merchant balance.
inline constexpr std::string_view kMerchantAccount = "merchant";

class Dialect {
 public:
  Dialect(engine::CardPayouts& cards, Options options);

  bool handle(http::Request& request, const http::Responder& respond);
  void set_public_url(std::string url);
  const Project* project(std::int64_t id) const;
  // The project whose id is `text` (1 to 12 digits, as JSON strings and query strings carry it).
  const Project* project(std::string_view text) const;

 private:
  void registration(http::Request& request, const http::Responder& respond);
  // The project a registration names, when the caller's address is on its allowlist, its client
  // certificate one the project accepts, and the body signed with its key; otherwise answers
  // the refusal itself and returns nullptr.
  const Project* signed_by(const json::Value& body, const json::Value& general,
                           const http::Request& request, const http::Responder& respond) const;
  void callback_sink(http::Request& request, const http::Responder& respond);
  // The signed callback of a payout's new state, or nullopt when it tells nothing new.
  std::optional<store::OutboxMessage> callback(const Tenant& tenant,
                                               const store::PayoutRecord& payout,
                                               const engine::CardOrder& order,
                                               std::int64_t now_ms) const;
  // The verification code's email, when the batch made a code.
  std::optional<store::OutboxMessage> code_mail(const store::PayoutRecord& payout,
                                                const engine::CardOrder& order,
                                                std::int64_t now_ms) const;

  engine::CardPayouts& cards_;
  Options options_;
  struct Sink;
  std::shared_ptr<Sink> sink_;  // sandbox: the callbacks this server received itself
};

}  // namespace payoutd::providers::ecommpay
