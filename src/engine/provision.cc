#include "engine/provision.h"

#include "engine/cards/card_payouts.h"

#include <future>
#include <optional>

namespace payoutd::engine {
namespace {

// Submits one command and waits for its durable result.
template <typename Result = AdminResult, typename Submit>
Result wait_for(Submit submit) {
  std::promise<Result> promise;
  auto future = promise.get_future();
  submit([&promise](Result r) { promise.set_value(std::move(r)); });
  return future.get();
}

// Runs `apply` in the committer and waits until its batch is durable; nullopt when the engine
// refused the job or the batch failed.
template <typename T, typename Apply>
std::optional<T> run_durably(Committer& committer, Apply apply) {
  std::promise<std::optional<T>> done;
  auto future = done.get_future();
  const bool submitted =
      committer.submit(make_job<T>(std::move(apply), [&done](T value, const store::Status& status) {
        done.set_value(status.ok ? std::optional<T>(std::move(value)) : std::nullopt);
      }));
  if (!submitted) return std::nullopt;
  return future.get();
}

std::string describe(std::string_view what, const AdminResult& r) {
  return std::string(what) + ": " + to_string(r.error) +
         (r.detail.empty() ? "" : " (" + r.detail + ")");
}

}  // namespace

std::string provision_if_empty(PayoutEngine& engine, CardPayouts* cards,
                               const ProvisionPlan& plan) {
  const std::string& marker = plan.marker;
  const auto provisioned = run_durably<bool>(
      engine.committer(),
      [&marker](store::WriteTxn& txn, std::int64_t) { return txn.get_meta(marker).has_value(); });
  if (!provisioned) return "cannot read the store";
  if (*provisioned) return {};

  for (const ProvisionedFunder& f : plan.funders) {
    auto r = wait_for([&](AdminCallback cb) { engine.create_funder(f.spec, std::move(cb)); });
    if (r.error != Error::kNone) return describe("funder " + f.spec.code, r);
    if (f.initial_minor > 0) {
      r = wait_for([&](AdminCallback cb) {
        engine.credit_funder(f.spec.tenant, "initial-balance:" + f.spec.code, f.spec.code,
                             Amount{f.initial_minor, f.spec.currency}, std::move(cb));
      });
      if (r.error != Error::kNone) return describe("initial balance of " + f.spec.code, r);
    }
  }
  for (const ClientSpec& c : plan.clients) {
    auto r = wait_for([&](AdminCallback cb) { engine.create_client(c, std::move(cb)); });
    if (r.error != Error::kNone) return describe("client " + c.client_id, r);
  }
  for (const ProvisionedBinding& b : plan.bindings) {
    if (!cards) return "binding " + b.binding_id + ": no card engine";
    auto issuer = cards->bins().find(b.pan);
    if (!issuer) return "binding " + b.binding_id + ": the BIN table does not know its card";
    const BindingKind kind = b.debit ? BindingKind::kDebit : BindingKind::kRecipient;
    const auto r = wait_for<CorporateCardResult>([&](CorporateCardCallback cb) {
      cards->corporate().provision_binding(b.tenant, b.binding_id, kind, b.client_id,
                                           {b.pan, *issuer, b.holder}, std::move(cb));
    });
    if (r == CorporateCardResult::kKindConflict) {
      return "binding " + b.binding_id + ": it exists with another kind";
    }
    if (r != CorporateCardResult::kOk) return "binding " + b.binding_id + ": storage unavailable";
  }
  const auto marked =
      run_durably<bool>(engine.committer(), [&marker](store::WriteTxn& txn, std::int64_t) {
        txn.set_meta(marker, "1");
        return true;
      });
  return marked ? std::string() : "cannot mark the store provisioned";
}

}  // namespace payoutd::engine
