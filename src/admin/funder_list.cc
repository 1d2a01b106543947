// GET tenants/{tenant}/funders (docs/admin.md, "Funding accounts: credits and debits"): every
// funding account of a tenant with its balance, for the operators' console and scripts that
// would otherwise have to know each provider's settings to find them.
#include "admin/answers.h"
#include "admin/api.h"
#include "core/assert.h"

namespace payoutd::admin {

void Dialect::list_tenant_funders(const Call& call) {
  const std::optional<Tenant> tenant = Tenant::parse(call.path[1]);
  PAYOUTD_ASSERT(tenant.has_value(), "an admitted tenants/{tenant}/ path names a tenant");
  const auto accounts = store_.tenant_accounts(tenant->key(), ledger::AccountKind::kFunder);
  if (!accounts.ok()) return call.respond(unavailable());
  std::string body = R"({"funders":[)";
  for (std::size_t i = 0; i < accounts->size(); ++i) {
    if (i > 0) body.push_back(',');
    body += render_funder((*accounts)[i]);  // one piece of code renders a funder everywhere
  }
  body += "]}";
  http::Response r;
  r.body = std::move(body);
  engine_.answer_when_durable(call.respond, std::move(r), unavailable);
}

}  // namespace payoutd::admin
