#pragma once
// The HTTP requests the main listener answered, by provider, route, method and status code, and
// how long each took: payoutd_http_requests_total and payoutd_http_request_duration_seconds
// (docs/operations.md).
//
// The route label is a template of the route table (http_requests.cc), e.g.
// "/partner/openapi-payment-api/v1/funder-payouts/products/{productId}/transactions/{transactionId}",
// never the path as sent: a path the table does not know counts as route "other" of the provider
// whose prefix it has (or of provider "other"). Methods are GET, POST, PUT and "other"; codes the
// server answers are their own label, any other "other". So every label value is known before
// the first request, and the series are a dense array.
//
// Thread-safe: the server's I/O threads classify and count (an index, a clock difference and
// relaxed atomic adds: no lock, no allocation); a scrape reads.
#include <cstdint>
#include <string_view>

#include "core/metrics.h"
#include "http/server.h"

namespace payoutd::metrics {

class HttpRequests final : public http::RequestObserver {
 public:
  HttpRequests();

  std::uint32_t classify(const http::Request& request) override;
  void answered(std::uint32_t series, int status, std::int64_t handling_ns) override;

  void write(Exposition& out) const;

  // The route template (or "other") `path` counts under, and its provider; for tests.
  struct Route {
    std::string_view provider, route;
  };
  static Route route_of(std::string_view path);

 private:
  Counters requests_;    // [route][method][code]
  Histograms duration_;  // [route][method], microseconds
};

}  // namespace payoutd::metrics
