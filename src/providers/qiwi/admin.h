#pragma once
// QIWI's section of the admin API, under /admin/v1/qiwi/products/{p}/ (docs/admin.md): a
// product's funders (created, shown, credited from outside), its clients with their
// wallets (created, shown), and in the sandbox the other documented wallet operation types
// (recorded, so that a wallet's history shows them). The admin API has checked the token first.
// Its products are the tenant directory's; a funder or client created here is a change of the
// product's settings (tenants::Changes::apply_settings), as through PATCH /admin/v1/tenants/.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/section.h"
#include "engine/payouts.h"
#include "providers/qiwi/api.h"
#include "tenants/changes.h"

namespace payoutd::providers::qiwi {

// How a product's wallet operations may be changed from outside.
enum class Operations : std::uint8_t {
  kRecorded,  // the sandbox: PUT operations/{id} records one
  kRefused,   // elsewhere: operations/{id} answers 404
};

class AdminSection final : public admin::Section {
 public:
  // Serves the products of `directory`.
  AdminSection(engine::PayoutEngine& engine, tenants::Directory& directory,
               tenants::Changes& changes, Operations operations);

  std::string_view name() const override { return "qiwi"; }
  bool handle(http::Request& request, const admin::Actor& actor, std::span<const std::string> path,
              const http::Responder& respond) override;

 private:
  // One request of a product: `ids` holds its path after products/{p}/ (funders/{id}, ...).
  struct Call {
    http::Request& request;
    const admin::Actor& actor;
    Tenant tenant;
    std::span<const std::string> ids;
    const http::Responder& respond;
  };
  void put_funder(const Call& call);  // PUT funders/{funderId}
  void get_funder(const Call& call);  // GET funders/{funderId}
  void credit(const Call& call);      // POST funders/{funderId}/credits/{creditId}
  void put_client(const Call& call);  // PUT clients/{clientId}
  void get_client(const Call& call);  // GET clients/{clientId}
  void operation(const Call& call);   // PUT operations/{operationId}, sandbox only

  engine::PayoutEngine& engine_;
  tenants::Directory& directory_;
  tenants::Changes& changes_;
  Operations operations_;
};

}  // namespace payoutd::providers::qiwi
