#include "console/page_list.h"

namespace payoutd::console {

// One line per page file, in the navigation's order.
void add_pages(Pages& pages) {
  add_partner_pages(pages);
  add_funding_pages(pages);
  add_request_pages(pages);
  add_audit_pages(pages);
  add_report_pages(pages);
  add_payout_pages(pages);
  add_cabinet_user_pages(pages);
}

}  // namespace payoutd::console
