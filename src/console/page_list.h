#pragma once
// Every working page of the console (console/page.h), registered by its own file's function.
#include "console/pages.h"

namespace payoutd::console {

// Registers every page below on `pages`; before the server starts.
void add_pages(Pages& pages);

void add_partner_pages(Pages& pages);       // partner_pages.cc: partners, onboarding, credentials
void add_funding_pages(Pages& pages);       // funding_pages.cc: funding accounts, moves, statements
void add_request_pages(Pages& pages);       // request_pages.cc: maker-checker's requests
void add_audit_pages(Pages& pages);         // audit_pages.cc: the operators' audit log
void add_report_pages(Pages& pages);        // report_pages.cc: the card payouts report
void add_payout_pages(Pages& pages);        // payout_pages.cc: payouts, a timeline, attention
void add_cabinet_user_pages(Pages& pages);  // cabinet_user_pages.cc: partners' cabinet users

}  // namespace payoutd::console
