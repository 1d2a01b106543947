#include "providers/card_limits_settings.h"

#include <algorithm>
#include <functional>

#include "web/api.h"

namespace payoutd::providers {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::string_view kMembers[] = {"singleMax", "totalMax", "countMax", "windowHours"};

// An amount member `name` of `f`'s object (absent or null: 0, no limit), in `currency`.
bool read_limit(web::Fields& f, const json::Value& limits, std::string_view name,
                const Currency& currency, std::int64_t* minor) {
  if (const json::Value* m = limits.find(name); !m || m->is_null()) return true;
  Amount amount;
  if (!web::parse_amount_object(f, name, false, &amount)) return false;
  if (amount.currency != currency) {
    return f.fail(name, "must be in " + std::string(currency.code()));
  }
  if (amount.minor > kCardLimitAmountMax) return f.fail(name, "is too large");
  *minor = amount.minor;
  return true;
}

// An integer member `name` from 1 to `max` (absent or null: `*out` stays).
bool read_count(web::Fields& f, const json::Value& limits, std::string_view name, std::int64_t max,
                std::int64_t* out) {
  const json::Value* m = limits.find(name);
  if (!m || m->is_null()) return true;
  const auto n = m->as_int64();
  if (!n || *n < 1 || *n > max) {
    return f.fail(name, "must be an integer from 1 to " + std::to_string(max));
  }
  *out = *n;
  return true;
}

std::string shown(std::int64_t minor, const Currency& currency) {
  return format_decimal(minor, currency.exponent()) + " " + std::string(currency.code());
}

// One limit of `what` (0: none) going from `from` to `to`, as maker-checker weighs it; `text`
// shows a value.
template <typename Text>
void review_one(std::string_view what, std::int64_t from, std::int64_t to, Text text,
                const std::function<tenants::Approval(std::int64_t)>& raised_to,
                tenants::ApprovalNeed& need) {
  const std::string member = "settings.cardLimits." + std::string(what);
  if (from == to || (to != 0 && from != 0 && to < from) || (from == 0 && to != 0)) return;
  if (to == 0) {
    need.add(tenants::Approval::kSecond, member + ": " + text(from) + " removed (no limit)");
    return;
  }
  const tenants::Approval approval = raised_to(to);
  need.add(approval, member + ": raised from " + text(from) + " to " + text(to) +
                         (approval == tenants::Approval::kSecond ? ", above the threshold"
                                                                 : ", within the threshold"));
}

}  // namespace

bool read_card_limits(const json::Value& settings, const Currency& currency, std::string* problem,
                      engine::CardLimits& out) {
  out = engine::CardLimits{};
  const json::Value* limits = settings.find(kCardLimitsMember);
  if (!limits || limits->is_null()) return true;
  const std::string where = "settings." + std::string(kCardLimitsMember);
  if (!limits->is_object()) return *problem = where + ": must be an object", false;
  for (const auto& [name, value] : limits->as_object()) {
    if (std::find(std::begin(kMembers), std::end(kMembers), name) == std::end(kMembers)) {
      *problem = where;
      problem->append(".").append(name).append(": is not a card limit");
      return false;
    }
  }
  web::Fields f(*limits, where + ".", problem);
  std::int64_t count = 0;
  std::int64_t hours = out.window_ms / kHourMs;
  if (!read_limit(f, *limits, "singleMax", currency, &out.single_max) ||
      !read_limit(f, *limits, "totalMax", currency, &out.total_max) ||
      !read_count(f, *limits, "countMax", kCardLimitCountMax, &count) ||
      !read_count(f, *limits, "windowHours", kCardLimitWindowHoursMax, &hours)) {
    return false;
  }
  out.count_max = static_cast<int>(count);
  out.window_ms = hours * kHourMs;
  return true;
}

void write_card_limits(json::Writer& w, const engine::CardLimits& limits,
                       const Currency& currency) {
  // None set: nothing written (settings stored before limits existed read back unchanged).
  const engine::CardLimits none;
  if (limits.single_max == 0 && limits.total_max == 0 && limits.count_max == 0 &&
      limits.window_ms == none.window_ms) {
    return;
  }
  auto amount = [&](std::string_view key, std::int64_t minor) {
    if (minor == 0) return;
    w.key(key).begin_object().key("value").string(format_decimal(minor, currency.exponent()));
    w.key("currency").string(currency.code()).end_object();
  };
  w.key(kCardLimitsMember).begin_object();
  amount("singleMax", limits.single_max);
  amount("totalMax", limits.total_max);
  if (limits.count_max > 0) w.key("countMax").integer(limits.count_max);
  w.key("windowHours").integer(limits.window_ms / kHourMs).end_object();
}

void review_card_limits(const engine::CardLimits& current, const engine::CardLimits& next,
                        const Currency& currency, const tenants::AboveThreshold& above,
                        tenants::ApprovalNeed& need) {
  using tenants::Approval;
  auto money = [&currency](std::int64_t minor) { return shown(minor, currency); };
  auto by_threshold = [&](std::int64_t minor) {
    return above(Amount{minor, currency}) ? Approval::kSecond : Approval::kFinance;
  };
  review_one("singleMax", current.single_max, next.single_max, money, by_threshold, need);
  review_one("totalMax", current.total_max, next.total_max, money, by_threshold, need);
  auto count = [](std::int64_t n) { return std::to_string(n) + " payouts"; };
  review_one(
      "countMax", current.count_max, next.count_max, count,
      [](std::int64_t) { return Approval::kSecond; }, need);
  if (next.window_ms < current.window_ms) {
    need.add(Approval::kSecond, "settings.cardLimits.windowHours: shortened from " +
                                    std::to_string(current.window_ms / kHourMs) + " to " +
                                    std::to_string(next.window_ms / kHourMs) + " hours");
  }
}

}  // namespace payoutd::providers
