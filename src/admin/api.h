#pragma once
// Operators' API: create QIWI funders and clients, credit funders, read balances, and in the
// sandbox record the other documented wallet operation types. docs/qiwi.md lists the paths.
#include <string>

#include "core/throttle.h"
#include "engine/payouts.h"
#include "http/server.h"
#include "rails/sandbox_rail.h"

namespace payoutd::admin {

struct Options {
  std::string token;  // empty disables the admin API
  bool sandbox = false;
  ThrottleOptions throttle;  // wrong tokens, per address
  // Every tenant of the config ("qiwi:<product>", "bereke:<partner>", "ecommpay:<project>"): the
  // funding accounts of each are credited under /admin/v1/tenants/{tenant}/funders/.
  std::vector<std::string> tenants;
};

class Dialect {
 public:
  Dialect(engine::PayoutEngine& engine, Options options);
  bool handle(http::Request& request, const http::Responder& respond);
  // The sandbox card network whose credits GET /admin/v1/rail/credits/{reference} shows.
  void set_sandbox_rail(const rails::SandboxRail* rail) { rail_ = rail; }
  // The store whose outbox GET /admin/v1/outbox shows.
  void set_outbox_store(const store::Store* store) { outbox_store_ = store; }

 private:
  http::Response error(int status, std::string_view code, std::string_view description) const;
  http::Response stats() const;  // GET /admin/v1/stats: the group committer's counters
  void put_funder(http::Request& request, const http::Responder& respond,
                  const std::string& tenant, const std::string& funder);
  void get_funder(const http::Responder& respond, const std::string& tenant,
                  const std::string& funder);
  void credit(http::Request& request, const http::Responder& respond, const std::string& tenant,
              const std::string& funder, const std::string& credit_id);
  void put_client(http::Request& request, const http::Responder& respond,
                  const std::string& tenant, const std::string& client);
  void get_client(const http::Responder& respond, const std::string& tenant,
                  const std::string& client);
  void operation(http::Request& request, const http::Responder& respond,
                 const std::string& tenant, const std::string& operation_id);
  // Answers an engine result: 200 with `ok_body`, or the mapped error.
  void answer(const http::Responder& respond, const engine::AdminResult& result,
              std::string ok_body) const;

  engine::PayoutEngine& engine_;
  Options options_;
  const rails::SandboxRail* rail_ = nullptr;
  const store::Store* outbox_store_ = nullptr;
  Throttle throttle_;
  http::Response outbox(const http::Request& request) const;
};

}  // namespace payoutd::admin
