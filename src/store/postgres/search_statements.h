#pragma once
// The PostgreSQL store's statements of the operators' reads (store.h: Store::search_payouts and
// the attention's), and the expression of the index records_card_mask, which the search by card
// spells word for word (an index on an expression serves only a query that spells it). Per-key
// lookups are LATERAL subqueries, as everywhere in this store (statements.h says why).
#include "store/shared_sql.h"

// The first 6 and last 4 digits of a card order's masked card ("411111XXXXXX1111").
#define PAYOUTD_CARD_MASK \
  "left(value::jsonb ->> 'masked_pan', 6) || right(value::jsonb ->> 'masked_pan', 4)"

namespace payoutd::store::postgres {

// Every search statement's parameters: $1 status (-1: any), $2 from, $3 to, $4 min, $5 max,
// $6 currency, $7 tenant, $8 and $9 the cursor, $10 the page's limit, $11 the key (the payout's
// id, the partner id or the card) or, without one, the payouts the window examines; and of the
// searches by partner id and by card, $12 the kinds their payouts may have.
#define PAYOUTD_FILTERS                                                                     \
  PAYOUTD_SEARCH_FILTERS("$1::int", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint", \
                         "$6::text", "$7::text", "$8::bigint", "$9::bigint")

// The payout by its id alone, then filtered: a generic plan made while the table was small would
// otherwise read payouts_by_time for the cursor's and the dates' conditions.
inline constexpr auto kSearchById =
    sql::concat("SELECT " PAYOUT_COLUMNS
                " FROM (SELECT * FROM payouts WHERE id = $11::bigint LIMIT 1) p WHERE p.",
                sql::kListedPayoutKinds, " AND " PAYOUTD_FILTERS " LIMIT $10::bigint");
// The probes of a payout by its key take the kinds as a parameter ($12), as kPayoutByKey does: a
// generic plan then cannot use the partial indexes of the listed kinds, and probes the key's own
// unique index (tenant, kind, partner_id) instead of walking a tenant's payouts by time.
inline constexpr auto kSearchByPartner =
    sql::concat(sql::kPayoutTenants,
                "SELECT " PAYOUT_COLUMNS
                " FROM (SELECT p.* FROM tenants t CROSS JOIN LATERAL "
                "(SELECT * FROM payouts WHERE tenant = t.tenant AND kind = ANY($12::int[]) AND "
                "partner_id = $11::text LIMIT 2) p WHERE " PAYOUTD_FILTERS
                ") s ORDER BY created_ms DESC, id DESC LIMIT $10::bigint");
inline constexpr auto kSearchByCard = sql::concat(
    "SELECT " PAYOUT_COLUMNS
    " FROM (SELECT p.* FROM (SELECT tenant, key FROM records WHERE kind = " PAYOUTD_CARD_ORDER_KIND
    " AND " PAYOUTD_CARD_MASK
    " = $11::text OFFSET 0) r CROSS JOIN LATERAL (SELECT * FROM payouts WHERE tenant = r.tenant "
    "AND kind = ANY($12::int[]) AND partner_id = r.key LIMIT 1) p WHERE " PAYOUTD_FILTERS
    ") s ORDER BY created_ms DESC, id DESC LIMIT $10::bigint");
#define PAYOUTD_WINDOW_ORDER " ORDER BY p.created_ms DESC, p.id DESC"
inline constexpr auto kSearchWindow =
    PAYOUTD_SEARCH_WINDOW("", "$2::bigint", "$3::bigint", "$8::bigint", "$9::bigint", "$11::bigint",
                          PAYOUTD_FILTERS, PAYOUTD_WINDOW_ORDER, "$10::bigint");
inline constexpr auto kSearchTenantWindow = PAYOUTD_SEARCH_WINDOW(
    "tenant = $7::text AND ", "$2::bigint", "$3::bigint", "$8::bigint", "$9::bigint", "$11::bigint",
    PAYOUTD_FILTERS, PAYOUTD_WINDOW_ORDER, "$10::bigint");
#undef PAYOUTD_FILTERS
#undef PAYOUTD_WINDOW_ORDER
// (from, to, cursor's created_ms, cursor's id, offset[, tenant]).
inline constexpr auto kSearchWindowEnd = PAYOUTD_SEARCH_WINDOW_END(
    "", "$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint");
inline constexpr auto kSearchTenantWindowEnd = PAYOUTD_SEARCH_WINDOW_END(
    "tenant = $6::text AND ", "$1::bigint", "$2::bigint", "$3::bigint", "$4::bigint", "$5::bigint");

inline constexpr auto kUnsettledCardPayouts =
    PAYOUTD_UNSETTLED_CARD_PAYOUTS("$1::bigint", "$2::bigint", "$3::int");
inline constexpr auto kFailingCallbacks = PAYOUTD_FAILING_CALLBACKS("$1::bigint");
inline constexpr auto kOutboxQueues = PAYOUTD_OUTBOX_QUEUES("$1::bigint");

}  // namespace payoutd::store::postgres
