#pragma once
// The operators' API under /admin/v1/, behind a bearer token (admin.token; wrong tokens are
// throttled per address, for the API mints money): the group committer's counters, the outbox
// with every delivery attempt, the sandbox card network's credits, every tenant's funding
// accounts (shown, credited and debited under maker-checker: admin/funding_requests.h), the
// requests a second person decides (admin/requests.h), the operators' audit log (every mutating
// call is in it: admin/call_audit.h), statements and reports, and the providers' own sections
// (admin/section.h), each under /admin/v1/<its name>/. It knows no provider. docs/admin.md lists
// the paths, docs/openapi/admin.yaml describes them.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "admin/actor.h"
#include "admin/audit_trail.h"
#include "admin/call_audit.h"
#include "admin/funding_requests.h"
#include "admin/payouts_api.h"
#include "admin/requests.h"
#include "admin/section.h"
#include "admin/tenant_section.h"
#include "admin/tenants_api.h"
#include "core/client_certificate.h"
#include "core/throttle.h"
#include "engine/payouts.h"
#include "engine/statements.h"
#include "http/server.h"
#include "rails/rail_set.h"
#include "rails/sandbox_rail.h"

namespace payoutd::admin {

// The staff members' API keys (console/staff_api.h keeps them in the store): who a key is.
class KeyDirectory {
 public:
  enum class Verdict : std::uint8_t { kStaff, kWrong, kUnavailable };
  struct Identified {
    Verdict verdict = Verdict::kWrong;
    Actor actor;  // kStaff: the member, with their roles, via "api-key:<id>"
  };
  virtual ~KeyDirectory() = default;
  // Whether `bearer` has the form of an API key (anything else is compared with admin.token).
  virtual bool is_key(std::string_view bearer) const = 0;
  // The member whose key, not revoked, `key` is, while they are enabled; read from the store on
  // every call, so a revoked key or a disabled member stops at once on every node.
  virtual Identified identify(std::string_view key, const std::string& address) = 0;
  // Whether admin.token still opens the API where it only bootstraps it: while no enabled member
  // with the admin role holds an API key. nullopt when the store cannot be read.
  virtual std::optional<bool> token_open() = 0;
};

struct Options {
  std::string token;  // empty disables the admin API
  // Outside the sandbox the token only bootstraps the staff: it opens the API while no enabled
  // admin member holds an API key (KeyDirectory::token_open), and is refused
  // 401 auth.token.retired afterwards.
  bool token_bootstrap_only = false;
  ThrottleOptions throttle;  // wrong tokens, per address
  // [admin] client_cert_subjects / client_cert_spki_sha256: the client certificates a call must
  // present besides the token; empty: the token alone.
  ClientCertificatePolicy client_certificates;
  // Every tenant of the config (a QIWI product, a Bereke partner, an ecommpay project): the
  // funding accounts of each are credited under /admin/v1/tenants/{tenant}/funders/, {tenant}
  // being its key ("qiwi:<product>", "bereke:<partner>", "ecommpay:<project>").
  std::vector<Tenant> tenants;
  // Of them, those whose provider pays cards: the card payouts report reads these.
  std::vector<Tenant> card_tenants;
  // [statements]: the day's zone and the lines of one answer (engine/statements.h).
  engine::StatementOptions statements;
  // [admin] approval_threshold and request_ttl_s: when credits and debits need a second person
  // (admin/requests.h).
  MakerCheckerOptions maker_checker;
  // [admin] attention_age_s: card payouts awaiting reconciliation longer than this need attention
  // (admin/payouts_api.h).
  std::int64_t attention_age_s = kAttentionAgeSecondsDefault;
  // The operators' audit log's MAC key (engine/operator_log.h): from the vault's key-encryption
  // key, set by the app; unkeyed when there is none.
  engine::AuditKey audit_key;
};

class Dialect {
 public:
  // `store` is the one the engine writes; both outlive this API.
  Dialect(engine::PayoutEngine& engine, const store::Store& store, Options options);
  // True when the path is under /admin/; the request is then answered through `respond`.
  bool handle(http::Request& request, const http::Responder& respond);
  // Answers `request` (a path under /admin/v1/) as `actor`, whom the caller authenticated (the
  // console's signed-in member): the same routes, role checks, audit and maker-checker as a call
  // over HTTP, whether or not admin.token opens the API to HTTP clients.
  void serve_as(http::Request& request, const Actor& actor, const http::Responder& respond);
  // Hands it the paths under /admin/v1/<section->name()>/; before the server starts. The section
  // is the caller's and outlives this API.
  void add_section(Section* section);
  // The card rails whose calls GET /admin/v1/stats counts.
  void set_rails(const rails::RailSet* rails) { rail_set_ = rails; }
  // The sandbox card networks whose credits GET /admin/v1/rail/credits/{reference} shows.
  void set_sandbox_rails(std::vector<const rails::SandboxRail*> rails) {
    rails_ = std::move(rails);
  }
  // The staff's API keys, each opening the API as its member; before the server starts.
  void set_key_directory(KeyDirectory* keys) { keys_ = keys; }
  // The store whose outbox GET /admin/v1/outbox shows.
  void set_outbox_store(const store::Store* store) { outbox_store_ = store; }
  // The store the statements and reports read (docs/admin.md, "Statements and reconciliation
  // reports").
  void set_report_store(const store::Store* store) { report_store_ = store; }
  // The tenant directory's routes (tenants, tenants/{tenant}/...); its tenants' funding accounts
  // are served under tenants/{tenant}/funders/ besides the config's. The API is the caller's.
  void set_tenants(TenantsApi* tenants) { tenants_ = tenants; }
  // Payouts across partners, what needs attention and redelivery (admin/payouts_api.h); the API
  // is the caller's.
  void set_payouts(PayoutsApi* payouts) { payouts_ = payouts; }
  // Hands it the paths under tenants/{tenant}/<section->name()>/ (admin/tenant_section.h); before
  // the server starts. The section is the caller's.
  void add_tenant_section(TenantSection* section) { tenant_sections_.push_back(section); }
  // The operators' audit log, for what staff do elsewhere (the console's sign-ins): its entries
  // are the ones this API writes, in the same chain.
  const AuditTrail& audit_trail() const { return trail_; }
  // Maker-checker's requests, for kinds added elsewhere (Requests::add_kind, before serving).
  Requests& requests() { return requests_; }

 private:
  // One authenticated request: `path` holds its segments after /admin/v1/.
  struct Call {
    http::Request& request;
    const Actor& actor;
    std::span<const std::string> path;
    const http::Responder& respond;
  };
  // Checks the bearer token; answers the refusal itself and returns nullopt when it fails.
  std::optional<Actor> authenticate(const http::Request& request, const http::Responder& respond);
  // The member of a staff API key, or the refusal answered (and counted against the address).
  std::optional<Actor> authenticate_key(std::string_view key, const http::Request& request,
                                        const http::Responder& respond, std::int64_t now_ms);
  // Whether admin.token opens the API now (token_bootstrap_only); else answers the refusal.
  bool token_admitted(const http::Responder& respond);
  // Answers an authenticated request of `actor`; a mutating one only once its intent is in the
  // operators' audit log, and with its outcome written there before the answer
  // (admin/call_audit.h).
  void route(http::Request& request, const Actor& actor, const http::Responder& respond);
  // Its own routes (each needing a role), then the sections, else 404.
  void route_now(http::Request& request, const Actor& actor, const http::Responder& respond);
  // Paths under tenants/{tenant}/funders: the tenant is one of the config or of the
  // directory (a closed one's accounts are shown, not credited) and the ids are well formed;
  // otherwise answers the refusal itself and returns false.
  bool admit_tenant_path(const Call& call) const;
  // The tenant of a tenants/{tenant}/... path when it is one of the config or of the directory,
  // and not closed unless the call only reads; otherwise answers the refusal itself.
  std::optional<Tenant> admit_tenant(const Call& call) const;
  // A path of a tenant section: answered (true), or false when none has it.
  bool route_tenant_section(const Call& call);

  void stats(const Call& call);                 // GET stats: the group committer's counters
  void outbox(const Call& call);                // GET outbox?tenant=T&event=PREFIX
  void rail_credit(const Call& call);           // GET rail/credits/{reference}
  void list_tenant_funders(const Call& call);   // GET tenants/{tenant}/funders (funder_list.cc)
  void show_tenant_funder(const Call& call);    // GET tenants/{tenant}/funders/{code}
  void credit_tenant_funder(const Call& call);  // POST tenants/{tenant}/funders/{code}/credits/{id}
  // GET tenants/{tenant}/funders/{code}/statements/{date} (admin/statements.cc)
  void statement(const Call& call);
  void card_payouts_report(const Call& call);  // GET reports/card-payouts?date=
  void debit_tenant_funder(const Call& call);  // POST tenants/{tenant}/funders/{code}/debits/{id}
  // admin/operator_routes.cc: the audit log and maker-checker's requests.
  // GET audit?actor=&action=&target=&outcome=&from=&to=&before=
  void audit_log(const Call& call);
  void list_requests(const Call& call);    // GET requests?status=&before=&limit=
  void show_request(const Call& call);     // GET requests/{id}
  void approve_request(const Call& call);  // POST requests/{id}/approve
  void reject_request(const Call& call);   // POST requests/{id}/reject

  engine::PayoutEngine& engine_;
  Options options_;
  std::vector<Section*> sections_;
  std::vector<const rails::SandboxRail*> rails_;
  const rails::RailSet* rail_set_ = nullptr;
  const store::Store* outbox_store_ = nullptr;
  const store::Store* report_store_ = nullptr;
  TenantsApi* tenants_ = nullptr;
  PayoutsApi* payouts_ = nullptr;
  std::vector<TenantSection*> tenant_sections_;
  KeyDirectory* keys_ = nullptr;
  Throttle throttle_;
  const store::Store& store_;
  SystemClock clock_;
  AuditTrail trail_;
  Requests requests_;
  FundingDesk funding_;
  CallAudit calls_;  // last: its worker answers calls with everything above
};

}  // namespace payoutd::admin
