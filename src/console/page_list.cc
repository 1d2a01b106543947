#include "console/page_list.h"

namespace payoutd::console {

// One line per page file, in the navigation's order.
void add_pages(Pages& pages) {
  add_report_pages(pages);
  add_payout_pages(pages);
}

}  // namespace payoutd::console
