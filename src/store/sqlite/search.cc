// The SQLite store's operators' reads (store.h: Store::search_payouts and the attention's).
#include "store/read_guard.h"
#include "store/rows.h"
#include "store/search_plan.h"
#include "store/sqlite/search_statements.h"
#include "store/sqlite/store.h"

namespace payoutd::store::sqlite {
namespace {

std::int64_t count(std::size_t n) { return static_cast<std::int64_t>(n); }

std::string_view statement_of(SearchPath path) {
  switch (path) {
    case SearchPath::kPayoutId:
      return kSearchById;
    case SearchPath::kPartnerId:
      return kSearchByPartner;
    case SearchPath::kCard:
      return kSearchByCard;
    case SearchPath::kTenantWindow:
      return kSearchTenantWindow;
    case SearchPath::kWindow:
      break;
  }
  return kSearchWindow;
}

// The last payout a window examines, when it examines scan_max of them.
std::optional<std::pair<std::int64_t, std::int64_t>> window_end(Connection& c,
                                                                const PayoutSearch& q) {
  const bool of_tenant = !q.tenant.empty();
  Stmt& s = c.stmt(of_tenant ? std::string_view(kSearchTenantWindowEnd)
                             : std::string_view(kSearchWindowEnd));
  s.bind(q.created_from_ms).bind(q.created_to_ms).bind(q.before_created_ms).bind(q.before_id);
  s.bind(count(q.scan_max) - 1);
  if (of_tenant) s.bind(q.tenant);
  return first_row(s, [](const Stmt& row) { return std::pair(row.i64(0), row.i64(1)); });
}

OutboxQueue read_queue(const Stmt& s) {
  return {.tenant = s.text(0),
          .lane = static_cast<OutboxLane>(s.i32(1)),
          .pending = s.i64(2),
          .failing = s.i64(3),
          .oldest_created_ms = s.i64(4),
          .next_attempt_ms_min = s.i64(5)};
}

}  // namespace

Read<PayoutSearchPage> SqliteStore::search_payouts(const PayoutSearch& q) const {
  return guarded_read("search_payouts", [&] {
    auto reader = readers_.acquire();
    const SearchPath path = search_path(q);
    Stmt& s = reader->stmt(statement_of(path));
    s.bind(status_param(q)).bind(q.created_from_ms).bind(q.created_to_ms).bind(q.amount_min);
    s.bind(q.amount_max).bind(q.currency).bind(q.tenant).bind(q.before_created_ms);
    s.bind(q.before_id).bind(count(q.limit));
    if (path == SearchPath::kPayoutId) s.bind(q.payout_id);
    if (path == SearchPath::kPartnerId) {
      s.bind(q.partner_id).bind(static_cast<int>(PayoutKind::kWalletPayout));
      s.bind(static_cast<int>(PayoutKind::kCardPayout));
    }
    if (path == SearchPath::kCard) s.bind(q.card);
    if (reads_a_window(path)) s.bind(count(q.scan_max));
    PayoutSearchPage page;
    page.payouts = all_rows(s, read_payout);
    s.reset();
    set_next_page(q, page, ends_early(q, path, page) ? window_end(*reader, q) : std::nullopt);
    return page;
  });
}

Read<std::vector<PayoutRecord>> SqliteStore::unsettled_card_payouts(std::int64_t created_before_ms,
                                                                    std::size_t limit) const {
  return guarded_read("unsettled_card_payouts", [&] {
    auto reader = readers_.acquire();
    Stmt& s = reader->stmt(kUnsettledCardPayouts).bind(created_before_ms).bind(count(limit));
    s.bind(static_cast<int>(PayoutKind::kCardPayout));
    return all_rows(s, read_payout);
  });
}

Read<std::vector<OutboxMessage>> SqliteStore::failing_callbacks(std::size_t limit) const {
  return guarded_read("failing_callbacks", [&] {
    auto reader = readers_.acquire();
    return all_rows(reader->stmt(kFailingCallbacks).bind(count(limit)), read_outbox);
  });
}

Read<std::vector<OutboxQueue>> SqliteStore::outbox_queues(std::size_t limit) const {
  return guarded_read("outbox_queues", [&] {
    auto reader = readers_.acquire();
    return all_rows(reader->stmt(kOutboxQueues).bind(count(limit)), read_queue);
  });
}

}  // namespace payoutd::store::sqlite
