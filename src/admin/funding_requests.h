#pragma once
// Credits and debits of a partner's funding account by staff (the finance role), under
// maker-checker (admin/requests.h): at or below the threshold of its currency one call moves the
// money at once, above it the call makes a request that a second finance member approves. A
// credit comes from outside payoutd, a debit goes back out to the partner's bank; a debit never
// takes an account below zero (engine/funding.h). The id in the path is the caller's idempotency
// id: the same call again answers the same outcome or request, another amount under it is 409.
#include <string>

#include "admin/actor.h"
#include "admin/requests.h"
#include "core/tenant.h"
#include "engine/funding.h"
#include "http/server.h"

namespace payoutd::admin {

// A request kind that credits or debits a funding account: "funding.credit", "funding.debit".
class FundingKind final : public RequestKind {
 public:
  explicit FundingKind(engine::FundingDirection direction) : direction_(direction) {}
  std::string_view name() const override;
  std::string_view subject_field() const override { return "funder"; }
  std::string target(const Request& request) const override;
  void declare(const Request& request, store::Footprint& footprint) const override;
  std::optional<KindAnswer> check(store::WriteTxn& txn, const Request& request) const override;
  KindAnswer apply(store::WriteTxn& txn, const Request& request,
                   std::int64_t now_ms) const override;

 private:
  engine::FundingMove move_of(const Request& request) const;
  engine::FundingDirection direction_;
};

class FundingDesk {
 public:
  // Adds its two kinds to `requests`, which outlives it.
  explicit FundingDesk(Requests& requests);
  FundingDesk(const FundingDesk&) = delete;
  FundingDesk& operator=(const FundingDesk&) = delete;

  // POST/PUT of a credit or a debit `id` of `funder` of `tenant` by `actor`; the request's body is
  // {"amount":{"value","currency"}}. 200 with the record ({"id","status","amount"}) when it
  // moved (now or before), 202 with the request when it waits for a second person; 400
  // validation.error, 404 funder.not.found, 409 id.conflict, 422 currency.mismatch or
  // funder.insufficient.funds, 503.
  void move(engine::FundingDirection direction, const http::Request& request, const Actor& actor,
            const http::Responder& respond, const Tenant& tenant, const std::string& funder,
            const std::string& id) const;

 private:
  Requests& requests_;
  FundingKind credit_{engine::FundingDirection::kCredit};
  FundingKind debit_{engine::FundingDirection::kDebit};
};

}  // namespace payoutd::admin
