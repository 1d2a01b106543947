// The PostgreSQL store's operators' reads (store.h: Store::search_payouts and the attention's).
#include "store/postgres/search_statements.h"
#include "store/postgres/store.h"
#include "store/read_guard.h"
#include "store/rows.h"
#include "store/search_plan.h"

namespace payoutd::store::postgres {
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

Params search_params(const PayoutSearch& q, SearchPath path) {
  Params p = params_of(status_param(q), q.created_from_ms, q.created_to_ms, q.amount_min,
                       q.amount_max, std::string_view(q.currency), std::string_view(q.tenant),
                       q.before_created_ms, q.before_id, count(q.limit));
  if (path == SearchPath::kPayoutId) p.add(q.payout_id);
  ArrayText kinds;
  if (path == SearchPath::kPartnerId) {
    p.add(std::string_view(q.partner_id));
    for (PayoutKind kind : {PayoutKind::kWalletPayout, PayoutKind::kCardPayout}) {
      kinds.add(static_cast<std::int64_t>(kind));
    }
    p.add(kinds.done());
  }
  if (path == SearchPath::kCard) {
    p.add(std::string_view(q.card));
    kinds.add(static_cast<std::int64_t>(PayoutKind::kCardPayout));
    p.add(kinds.done());
  }
  if (reads_a_window(path)) p.add(count(q.scan_max));
  return p;
}

// The last payout a window examines, when it examines scan_max of them.
std::optional<std::pair<std::int64_t, std::int64_t>> window_end(Connection& c,
                                                                const PayoutSearch& q) {
  const bool of_tenant = !q.tenant.empty();
  Params p = params_of(q.created_from_ms, q.created_to_ms, q.before_created_ms, q.before_id,
                       count(q.scan_max) - 1);
  if (of_tenant) p.add(std::string_view(q.tenant));
  return first_row(c.query(of_tenant ? std::string_view(kSearchTenantWindowEnd)
                                     : std::string_view(kSearchWindowEnd),
                           p),
                   [](const Row& row) { return std::pair(row.i64(0), row.i64(1)); });
}

OutboxQueue read_queue(const Row& r) {
  return {.tenant = r.text(0),
          .lane = static_cast<OutboxLane>(r.i64(1)),
          .pending = r.i64(2),
          .failing = r.i64(3),
          .oldest_created_ms = r.i64(4),
          .next_attempt_ms_min = r.i64(5)};
}

}  // namespace

Read<PayoutSearchPage> PgStore::search_payouts(const PayoutSearch& q) const {
  return guarded_read("search_payouts", [&] {
    return readers_.with_reader([&](Connection& c) {
      const SearchPath path = search_path(q);
      PayoutSearchPage page;
      page.payouts = all_rows(c.query(statement_of(path), search_params(q, path)), read_payout);
      set_next_page(q, page, ends_early(q, path, page) ? window_end(c, q) : std::nullopt);
      return page;
    });
  });
}

Read<std::vector<PayoutRecord>> PgStore::unsettled_card_payouts(std::int64_t created_before_ms,
                                                                std::size_t limit) const {
  return guarded_read("unsettled_card_payouts", [&] {
    const Params params = params_of(created_before_ms, count(limit),
                                    static_cast<std::int64_t>(PayoutKind::kCardPayout));
    return all_rows(readers_.read(kUnsettledCardPayouts, params), read_payout);
  });
}

Read<std::vector<OutboxMessage>> PgStore::failing_callbacks(std::size_t limit) const {
  return guarded_read("failing_callbacks", [&] {
    return all_rows(readers_.read(kFailingCallbacks, params_of(count(limit))), read_outbox);
  });
}

Read<std::vector<OutboxQueue>> PgStore::outbox_queues(std::size_t limit) const {
  return guarded_read("outbox_queues", [&] {
    return all_rows(readers_.read(kOutboxQueues, params_of(count(limit))), read_queue);
  });
}

}  // namespace payoutd::store::postgres
