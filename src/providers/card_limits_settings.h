#pragma once
// The per-card limits of a card-paying tenant's settings (tenants/kind.h), shared by every
// provider whose partners pay cards: how they read from JSON and write back, and what raising
// them asks of maker-checker. The JSON form (docs/admin.md, "Card limits in partner settings"):
//   "cardLimits": {"singleMax":{"value":"500000.00","currency":"KZT"},
//                  "totalMax":{"value":"1000000.00","currency":"KZT"},
//                  "countMax":10, "windowHours":24}
// Every member may be left out: no limit of that kind (a window of 24 hours). A PATCH replaces the
// whole object. The limits are engine::CardLimits: checked when a payout reserves its amount.
#include <string>

#include "core/json.h"
#include "core/money.h"
#include "engine/cards/order.h"
#include "tenants/kind.h"

namespace payoutd::providers {

inline constexpr std::string_view kCardLimitsMember = "cardLimits";
inline constexpr std::int64_t kCardLimitAmountMax = 999'999'999'999;  // Integer [12] of the seeds
inline constexpr int kCardLimitCountMax = 1'000'000;
inline constexpr std::int64_t kCardLimitWindowHoursMax = 24 * 366;

// settings.cardLimits (absent or null: no limits) into `out`, its amounts in `currency`; false
// with *problem naming the member at fault ("settings.cardLimits.singleMax: must be in KZT").
bool read_card_limits(const json::Value& settings, const Currency& currency, std::string* problem,
                      engine::CardLimits& out);
// "cardLimits":{...}: what read_card_limits reads back (members of no limit left out; nothing
// at all when no limit is set and the window is the default).
void write_card_limits(json::Writer& w, const engine::CardLimits& limits, const Currency& currency);

// Adds to `need` what replacing `current` with `next` asks (tenants::Approval): an amount limit
// raised to at most the threshold (`above` false) needs one finance member; raised above it, or
// removed, a second one; a count raised or removed, or a window shortened, a second one (a count
// has no currency, and a currency without a threshold always needs two people). Lowering a
// limit asks nothing.
void review_card_limits(const engine::CardLimits& current, const engine::CardLimits& next,
                        const Currency& currency, const tenants::AboveThreshold& above,
                        tenants::ApprovalNeed& need);

}  // namespace payoutd::providers
