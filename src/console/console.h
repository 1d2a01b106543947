#pragma once
// The operators' plane that stands on staff accounts (docs/console.md, docs/admin.md ("Staff, roles
// and API keys")): the staff in the store (staff.h), their sign-in (auth.h) with its own credential
// worker, the admin API's staff section and API keys (staff_api.h), and the console's pages
// (pages.h). main builds one, hands api() to the admin API (as a section and as its key directory)
// and pages() to the server, then bootstraps the config's staff.
#include <memory>

#include "cabinet/credential_checks.h"
#include "console/auth.h"
#include "console/page_list.h"
#include "console/pages.h"
#include "console/staff.h"
#include "console/staff_api.h"

namespace payoutd::console {

struct Options {
  AuthOptions auth;  // [[admin.staff]], [console]
  PagesOptions pages;
};

class Console {
 public:
  // `vault` seals TOTP secrets; it is the caller's and outlives this.
  Console(engine::PayoutEngine& engine, const store::Store& store, const Clock& clock,
          const cards::Vault& vault, Options options)
      : staff_(engine, store, clock),
        checks_(clock, options.auth.checks, "console-auth"),
        auth_(engine, store, clock, staff_, vault, checks_, std::move(options.auth)),
        api_(staff_, checks_),
        pages_(auth_, options.pages) {}

  StaffApi& api() { return api_; }
  // Serves the console's working pages (console/page_list.h), which call `admin` as the signed-in
  // member; before the server starts. `admin` outlives this.
  void serve_pages(admin::Dialect& admin) {
    pages_.set_admin(&admin);
    add_pages(pages_);
  }
  Pages& pages() { return pages_; }
  Auth& auth() { return auth_; }

 private:
  Staff staff_;
  cabinet::CredentialChecks checks_;
  Auth auth_;
  StaffApi api_;
  Pages pages_;
};

}  // namespace payoutd::console
