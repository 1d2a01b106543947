#include "engine/provision.h"

#include <future>

namespace payoutd::engine {
namespace {

constexpr std::string_view kProvisionedKey = "provisioned";

// Submits one command and waits for its durable result.
template <typename Submit>
AdminResult wait_for(Submit submit) {
  std::promise<AdminResult> promise;
  auto future = promise.get_future();
  submit([&promise](AdminResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::string describe(std::string_view what, const AdminResult& r) {
  return std::string(what) + ": " + to_string(r.error) + (r.detail.empty() ? "" : " (" + r.detail + ")");
}

}  // namespace

std::string provision_if_empty(PayoutEngine& engine, const ProvisionPlan& plan) {
  struct Flag {
    bool provisioned = false;
  };
  std::promise<std::pair<Flag, bool>> checked;
  auto check_future = checked.get_future();
  const bool check_submitted = engine.committer().submit(make_job<Flag>(
      [](store::WriteTxn& txn, std::int64_t) {
        return Flag{txn.get_meta(kProvisionedKey).has_value()};
      },
      [&checked](Flag f, const store::Status& s) { checked.set_value({f, s.ok}); }));
  if (!check_submitted) return "the engine refused the provisioning check";
  const auto [flag, ok] = check_future.get();
  if (!ok) return "cannot read the store";
  if (flag.provisioned) return {};

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
  std::promise<bool> marked;
  auto marked_future = marked.get_future();
  const bool mark_submitted = engine.committer().submit(make_job<int>(
      [](store::WriteTxn& txn, std::int64_t) {
        txn.set_meta(kProvisionedKey, "1");
        return 0;
      },
      [&marked](int, const store::Status& s) { marked.set_value(s.ok); }));
  if (!mark_submitted) return "the engine refused the provisioning mark";
  return marked_future.get() ? std::string() : "cannot mark the store provisioned";
}

}  // namespace payoutd::engine
