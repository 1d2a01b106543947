#pragma once
// QIWI BaaS dialect: funder payouts to client wallets (Payments API, seed 000) and a wallet's
// payment history with cursor pagination (Reports API, seed 001). docs/qiwi.md is the contract.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_certificate.h"
#include "core/tenant.h"
#include "core/throttle.h"
#include "engine/payouts.h"
#include "http/server.h"
#include "tenants/directory.h"
#include "web/error_envelope.h"

namespace payoutd::providers::qiwi {

// A product of the config ([[qiwi.products]]): written into the tenant directory at start, from
// which the dialect reads every product, the config's and those onboarded at run time alike.
struct Product {
  std::string id;
  std::vector<std::string> tokens;
  // qiwi.products[i].client_cert_*: the certificates its calls must present besides a token.
  ClientCertificatePolicy client_certificates;
};

struct Options {
  int utc_offset_minutes = 180;   // QIWI shows Moscow time
  std::vector<Product> products;  // the config's
  ThrottleOptions throttle;       // wrong tokens, per (product, address) and per address
};

inline constexpr std::size_t kHistoryLimitMax = 200;
inline constexpr std::string_view kServicePayments = "payoutd-payments";
inline constexpr std::string_view kServiceReports = "payoutd-reports";

// The provider's name: its tenants' provider, its registry line and config section.
inline constexpr std::string_view kProvider = "qiwi";
// The tenant of product `product_id`: {kProvider, product_id}.
Tenant tenant_of(std::string_view product_id);

class Dialect {
 public:
  // Serves the products of `tenants` (provider kProvider).
  Dialect(engine::PayoutEngine& engine, Options options, tenants::Directory& tenants);

  // True when the path belongs to this dialect; the request is then answered through `respond`.
  bool handle(http::Request& request, const http::Responder& respond);

  const Options& options() const { return options_; }

 private:
  void payout(http::Request& request, const http::Responder& respond, const std::string& product,
              const std::string& transaction_id);
  void payout_status(const http::Responder& respond, const std::string& product,
                     const std::string& transaction_id);
  void history(http::Request& request, const http::Responder& respond, const std::string& product);
  // Checks the bearer token against the product: the product's entry (kept alive by the
  // snapshot it holds), or none when it answered the refusal itself.
  tenants::Authentication authorize(const http::Request& request, const http::Responder& respond,
                                    std::string_view service, const std::string& product);
  // Whether the request's client certificate is one `product` accepts (any, when it names none).
  bool certificate_admitted(const http::Request& request, const std::string& product);
  http::Response error(int status, std::string_view service, std::string_view code,
                       std::string_view description) const;

  engine::PayoutEngine& engine_;
  Options options_;
  tenants::Directory& tenants_;
  Throttle throttle_;
};

}  // namespace payoutd::providers::qiwi
