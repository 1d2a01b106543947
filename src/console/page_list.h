#pragma once
// Every working page of the console (console/page.h), registered by its own file's function.
#include "console/pages.h"

namespace payoutd::console {

// Registers every page below on `pages`; before the server starts.
void add_pages(Pages& pages);

void add_report_pages(Pages& pages);  // report_pages.cc: the card payouts report
void add_payout_pages(Pages& pages);  // payout_pages.cc: payouts, a timeline, attention

}  // namespace payoutd::console
