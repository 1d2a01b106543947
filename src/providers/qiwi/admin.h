#pragma once
// QIWI's section of the admin API, under /admin/v1/qiwi/products/{p}/ (docs/qiwi.md, "Admin
// API"): a product's funders (created, shown, credited from outside), its clients with their
// wallets (created, shown), and in the sandbox the other documented wallet operation types
// (recorded, so that a wallet's history shows them). The admin API has checked the token first.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/section.h"
#include "engine/payouts.h"
#include "providers/qiwi/api.h"

namespace payoutd::providers::qiwi {

// How a product's wallet operations may be changed from outside.
enum class Operations : std::uint8_t {
  kRecorded,  // the sandbox: PUT operations/{id} records one
  kRefused,   // elsewhere: operations/{id} answers 404
};

class AdminSection final : public admin::Section {
 public:
  // Serves the products of `options`.
  AdminSection(engine::PayoutEngine& engine, const Options& options, Operations operations);

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
  std::vector<std::string> products_;  // their ids
  Operations operations_;
};

}  // namespace payoutd::providers::qiwi
