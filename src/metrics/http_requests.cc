#include "metrics/http_requests.h"

#include <array>
#include <string>

namespace payoutd::metrics {
namespace {

// Providers as the route label set knows them; the last is for paths of no one's.
constexpr std::array<std::string_view, 6> kProviders{"qiwi",    "bereke", "ecommpay",
                                                     "cabinet", "admin",  "other"};
constexpr std::size_t kNoProvider = kProviders.size() - 1;

struct Template {
  std::size_t provider;    // into kProviders
  std::string_view route;  // "/a/{id}/b": "{...}" stands for any one segment
};

// Every route payoutd serves on its main listener, by provider. A new route of a provider counts
// as that provider's "other" until it is added here.
constexpr Template kTemplates[] = {
    {0,
     "/partner/openapi-payment-api/v1/funder-payouts/products/{productId}/transactions/"
     "{transactionId}"},
    {0, "/partner/openapi-reports/v1/products/{productId}/operations/history"},
    // Seed 001's example URL repeats the product's prefix; the dialect accepts it as printed.
    {0,
     "/partner/openapi-reports/v1/products/{productId}/openapi-reports/v1/products/{productId}/"
     "operations/history"},
    {1, "/payouts/api/v2/performPayout.do"},
    {1, "/payouts/api/v2/registerPayout.do"},
    {1, "/payouts/api/v2/getPayoutStatus.do"},
    {1, "/payouts/api/v2/getAmount.do"},
    {1, "/payouts/api/v2/echo"},
    {1, "/payouts/payment/confirm"},
    {1, "/payouts/payment/{page}"},
    {2, "/v2/payment/payout/registration"},
    {2, "/sandbox/ecommpay/callbacks"},
    {2, "/payment"},
    {2, "/payment/card"},
    {2, "/payment/code"},
    {2, "/payment/recipient"},
    {2, "/payment/result"},
    {2, "/shared/merchant.js"},
    {2, "/shared/merchant.css"},
    {3, "/cabinet"},
    {3, "/cabinet/login"},
    {3, "/cabinet/logout"},
    {3, "/cabinet/payouts"},
    {3, "/cabinet/payouts.csv"},
    {3, "/cabinet/payout"},
    {3, "/cabinet/audit"},
    {3, "/cabinet/cards"},
    {3, "/cabinet/cards/add"},
    {3, "/cabinet/cards/confirm"},
    {3, "/cabinet/cards/primary"},
    {3, "/cabinet/cards/delete"},
    {3, "/cabinet/knp"},
    {3, "/cabinet/password"},
    {4, "/admin/v1/stats"},
    {4, "/admin/v1/outbox"},
    {4, "/admin/v1/rail/credits/{reference}"},
    {4, "/admin/v1/tenants/{tenant}/funders/{code}"},
    {4, "/admin/v1/tenants/{tenant}/funders/{code}/credits/{creditId}"},
    {4, "/admin/v1/qiwi/products/{productId}/funders/{funderId}"},
    {4, "/admin/v1/qiwi/products/{productId}/funders/{funderId}/credits/{creditId}"},
    {4, "/admin/v1/qiwi/products/{productId}/clients/{clientId}"},
    {4, "/admin/v1/qiwi/products/{productId}/operations/{operationId}"},
    {5, "/healthz"},
    {5, "/static/payment.css"},
    {5, "/static/payment.js"},
    {5, "/favicon.ico"},
};
constexpr std::size_t kTemplateCount = std::size(kTemplates);

// Whose "other" a path the table does not know is: the provider whose prefix it has.
constexpr std::pair<std::string_view, std::size_t> kPrefixes[] = {
    {"/partner/", 0}, {"/payouts/", 1}, {"/v2/", 2},     {"/sandbox/ecommpay/", 2},
    {"/payment", 2},  {"/shared/", 2},  {"/cabinet", 3}, {"/admin/", 4},
};

// Routes: the templates, then each provider's "other".
constexpr std::size_t kRoutes = kTemplateCount + kProviders.size();

constexpr std::array<std::string_view, 4> kMethods{"GET", "POST", "PUT", "other"};

constexpr std::array<int, 25> kCodes{200, 201, 202, 204, 301, 302, 303, 304, 307,
                                     400, 401, 403, 404, 405, 409, 410, 413, 415,
                                     422, 429, 431, 500, 502, 503, 504};
constexpr std::size_t kCodeLabels = kCodes.size() + 1;  // and "other"

// Code -> its label's index, for every code a status line can carry.
constexpr auto kCodeIndex = [] {
  std::array<std::uint8_t, 1000> index{};
  index.fill(static_cast<std::uint8_t>(kCodes.size()));
  for (std::size_t i = 0; i < kCodes.size(); ++i) index[kCodes[i]] = static_cast<std::uint8_t>(i);
  return index;
}();

// Bounds of the duration histogram, in microseconds: 0.5 ms to 10 s.
const std::vector<std::int64_t> kDurationBoundsUs{500,     1000,    2500,    5000,    10000,
                                                  25000,   50000,   100000,  250000,  500000,
                                                  1000000, 2500000, 5000000, 10000000};

// Whether `path` has the template's shape, segment by segment.
bool matches(std::string_view path, std::string_view route) {
  while (!route.empty() && !path.empty()) {
    if (route[0] != '/' || path[0] != '/') return false;
    route.remove_prefix(1);
    path.remove_prefix(1);
    const std::size_t route_end = std::min(route.find('/'), route.size());
    const std::size_t path_end = std::min(path.find('/'), path.size());
    const std::string_view want = route.substr(0, route_end);
    const std::string_view got = path.substr(0, path_end);
    const bool any = want.size() > 2 && want.front() == '{' && want.back() == '}';
    if (any ? got.empty() : got != want) return false;
    route.remove_prefix(route_end);
    path.remove_prefix(path_end);
  }
  return route.empty() && path.empty();
}

std::size_t route_index(std::string_view path) {
  for (std::size_t i = 0; i < kTemplateCount; ++i) {
    if (matches(path, kTemplates[i].route)) return i;
  }
  for (const auto& [prefix, provider] : kPrefixes) {
    if (path.starts_with(prefix)) return kTemplateCount + provider;
  }
  return kTemplateCount + kNoProvider;
}

std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (method == kMethods[i]) return i;
  }
  return kMethods.size() - 1;
}

HttpRequests::Route route_at(std::size_t route) {
  if (route < kTemplateCount) {
    return {kProviders[kTemplates[route].provider], kTemplates[route].route};
  }
  return {kProviders[route - kTemplateCount], "other"};
}

}  // namespace

HttpRequests::HttpRequests()
    : requests_(kRoutes * kMethods.size() * kCodeLabels),
      duration_(kDurationBoundsUs, kRoutes * kMethods.size()) {}

HttpRequests::Route HttpRequests::route_of(std::string_view path) {
  return route_at(route_index(path));
}

std::uint32_t HttpRequests::classify(const http::Request& request) {
  return static_cast<std::uint32_t>(route_index(request.path()) * kMethods.size() +
                                    method_index(request.method));
}

void HttpRequests::answered(std::uint32_t series, int status, std::int64_t handling_ns) {
  const std::size_t code =
      status >= 0 && status < 1000 ? kCodeIndex[static_cast<std::size_t>(status)] : kCodes.size();
  requests_.add(series * kCodeLabels + code);
  duration_.observe(series, handling_ns / 1000);
}

void HttpRequests::write(Exposition& out) const {
  out.family("payoutd_http_requests_total", Type::kCounter,
             "HTTP requests answered on the main listener, by provider, route template, method "
             "and status code.");
  std::string code_text;
  for (std::size_t series = 0; series < kRoutes * kMethods.size(); ++series) {
    const Route r = route_at(series / kMethods.size());
    const std::string_view method = kMethods[series % kMethods.size()];
    for (std::size_t code = 0; code < kCodeLabels; ++code) {
      const std::int64_t n = requests_.value(series * kCodeLabels + code);
      if (n == 0) continue;  // a series per combination seen, not the whole product
      code_text = code < kCodes.size() ? std::to_string(kCodes[code]) : "other";
      out.sample(
          {{"provider", r.provider}, {"route", r.route}, {"method", method}, {"code", code_text}},
          n);
    }
  }
  out.family("payoutd_http_request_duration_seconds", Type::kHistogram,
             "Time from a request read whole until its answer began to be written (durable "
             "payouts include their fsync), by provider, route template and method.");
  for (std::size_t series = 0; series < kRoutes * kMethods.size(); ++series) {
    const Histograms::Snapshot s = duration_.snapshot(series);
    if (s.count() == 0) continue;
    const Route r = route_at(series / kMethods.size());
    out.histogram({{"provider", r.provider},
                   {"route", r.route},
                   {"method", kMethods[series % kMethods.size()]}},
                  s, duration_.bounds(), Scale::kMicro);
  }
}

}  // namespace payoutd::metrics
