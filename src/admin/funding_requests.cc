#include "admin/funding_requests.h"

#include "admin/answers.h"
#include "web/api.h"

namespace payoutd::admin {
namespace {

using engine::FundingOutcome;

KindAnswer answer_of(const engine::FundingResult& r) {
  switch (r.outcome) {
    case FundingOutcome::kDone:
      return {200, {}, {}, render_record(r.record)};
    case FundingOutcome::kFunderNotFound:
      return {404, "funder.not.found", r.detail, {}};
    case FundingOutcome::kCurrencyMismatch:
      return {422, "currency.mismatch", r.detail, {}};
    case FundingOutcome::kIdConflict:
      return {409, "id.conflict", r.detail, {}};
    case FundingOutcome::kInsufficientFunds:
      return {422, "funder.insufficient.funds", r.detail, {}};
  }
  return {500, "internal.error", "unknown funding outcome", {}};
}

}  // namespace

std::string_view FundingKind::name() const {
  return direction_ == engine::FundingDirection::kCredit ? "funding.credit" : "funding.debit";
}

std::string FundingKind::target(const Request& request) const {
  return request.tenant + "/funders/" + request.subject;
}

engine::FundingMove FundingKind::move_of(const Request& request) const {
  return engine::funding_move(direction_, request.tenant, request.external_id, request.subject,
                              request.amount.value_or(Amount{}));
}

void FundingKind::declare(const Request& request, store::Footprint& f) const {
  // The tenant's system account is found on first use: its code is no field of the request.
  f.payouts.push_back({request.tenant, engine::funding_kind(direction_), request.external_id});
  f.accounts.push_back({request.tenant, ledger::AccountKind::kFunder, request.subject});
}

std::optional<KindAnswer> FundingKind::check(store::WriteTxn& txn, const Request& request) const {
  const std::optional<engine::FundingResult> answered =
      engine::check_funding(txn, move_of(request));
  if (!answered) return std::nullopt;
  return answer_of(*answered);
}

KindAnswer FundingKind::apply(store::WriteTxn& txn, const Request& request,
                              std::int64_t now_ms) const {
  return answer_of(engine::apply_funding(txn, move_of(request), now_ms));
}

FundingDesk::FundingDesk(Requests& requests) : requests_(requests) {
  requests_.add_kind(&credit_);
  requests_.add_kind(&debit_);
}

void FundingDesk::move(engine::FundingDirection direction, const http::Request& request,
                       const Actor& actor, const http::Responder& respond, const Tenant& tenant,
                       const std::string& funder, const std::string& id) const {
  std::string problem;
  auto body = web::parse_object(request.body, &problem);
  Amount amount;
  if (body) {
    web::Fields f(*body, "", &problem);
    web::parse_amount_object(f, "amount", false, &amount);
  }
  if (!problem.empty()) return respond(error(400, "validation.error", problem));
  Request draft;
  draft.kind = direction == engine::FundingDirection::kCredit ? credit_.name() : debit_.name();
  draft.tenant = tenant.key();
  draft.subject = funder;
  draft.external_id = id;
  draft.amount = amount;
  requests_.submit(std::move(draft), actor, respond);
}

}  // namespace payoutd::admin
