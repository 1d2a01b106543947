#pragma once
// A provider's section of the admin API: the paths under /admin/v1/<name>/ (QIWI's products, with
// their funders, clients and sandbox operations, are providers/qiwi/admin.*). The admin API does
// the rest before it asks a section: a request the HTTP layer could not read whole is refused,
// and the bearer token is checked, wrong ones throttled per address. A section answers in the
// admin API's words (admin/answers.h) and may route with its tables (admin/routes.h).
#include <span>
#include <string>
#include <string_view>

#include "admin/actor.h"
#include "core/assert.h"
#include "http/server.h"

namespace payoutd::admin {

class FundingDesk;

class Section {
 public:
  virtual ~Section() = default;
  // The path segment after /admin/v1/ that is its own ("qiwi"): not one of the admin API's own
  // (stats, outbox, rail, tenants), nor another section's.
  virtual std::string_view name() const = 0;
  // Answers `request` of `actor` through `respond`; `path` holds its path's segments after
  // /admin/v1/<name>/ (percent-decoded, none empty). False when `path` is none of its own: the
  // admin API then answers 404 route.not.found. A section checks the role each of its paths
  // needs (admin/actor.h) and answers 403 auth.role.missing without it.
  virtual bool handle(http::Request& request, const Actor& actor, std::span<const std::string> path,
                      const http::Responder& respond) = 0;

  // The admin API's funding desk (credits and debits under maker-checker,
  // admin/funding_requests.h), handed over by Dialect::add_section.
  void use_funding(const FundingDesk* desk) { funding_ = desk; }

 protected:
  const FundingDesk& funding() const {
    PAYOUTD_ASSERT(funding_ != nullptr, "a section credits only once added to the admin API");
    return *funding_;
  }

 private:
  const FundingDesk* funding_ = nullptr;
};

}  // namespace payoutd::admin
