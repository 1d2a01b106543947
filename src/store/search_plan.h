#pragma once
// How a store reads an operator's search (Store::search_payouts), shared by the backends: which
// key it reads through, and where the next page starts.
#include <cstdint>
#include <optional>
#include <utility>

#include "store/store.h"

namespace payoutd::store {

enum class SearchPath : std::uint8_t {
  kPayoutId,      // the primary key
  kPartnerId,     // each tenant's unique key
  kCard,          // records_card_mask
  kTenantWindow,  // payouts_by_tenant_time, at most scan_max examined
  kWindow,        // payouts_by_time, at most scan_max examined
};

inline SearchPath search_path(const PayoutSearch& q) {
  if (q.payout_id != 0) return SearchPath::kPayoutId;
  if (!q.partner_id.empty()) return SearchPath::kPartnerId;
  if (!q.card.empty()) return SearchPath::kCard;
  return q.tenant.empty() ? SearchPath::kWindow : SearchPath::kTenantWindow;
}

inline bool reads_a_window(SearchPath path) {
  return path == SearchPath::kTenantWindow || path == SearchPath::kWindow;
}

// Whether a page read through a window may have stopped before the window's end: only then is the
// window's last payout read (a full page goes on after its own last payout).
inline bool ends_early(const PayoutSearch& q, SearchPath path, const PayoutSearchPage& page) {
  return reads_a_window(path) && page.payouts.size() < q.limit;
}

// The status as the statements take it: -1 for any.
inline std::int64_t status_param(const PayoutSearch& q) {
  return q.status ? static_cast<std::int64_t>(*q.status) : -1;
}

// Sets the page's cursor: after its last payout when it is full; else, when a window ended before
// the page filled, after the last payout the window examined (`window_end`); else none.
inline void set_next_page(const PayoutSearch& q, PayoutSearchPage& page,
                          std::optional<std::pair<std::int64_t, std::int64_t>> window_end) {
  if (page.payouts.size() >= q.limit && !page.payouts.empty()) {
    page.next_created_ms = page.payouts.back().created_ms;
    page.next_id = page.payouts.back().id;
  } else if (window_end) {
    page.next_created_ms = window_end->first;
    page.next_id = window_end->second;
  }
}

}  // namespace payoutd::store
