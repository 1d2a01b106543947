#include "engine/payout_metrics.h"

namespace payoutd::engine {
namespace {

constexpr std::size_t kOutcomes = 2;  // success, declined
constexpr std::string_view kOutcomeNames[kOutcomes] = {"success", "declined"};

}  // namespace

PayoutMetrics::PayoutMetrics(std::vector<std::string> providers)
    : providers_(std::move(providers)),
      outcomes_((providers_.size() + 1) * kOutcomes),
      amounts_((providers_.size() + 1) * Currency::known_count()) {
  providers_.emplace_back("other");
}

std::size_t PayoutMetrics::provider_index(std::string_view tenant_key) const {
  const std::string_view provider = tenant_key.substr(0, tenant_key.find(':'));
  for (std::size_t i = 0; i + 1 < providers_.size(); ++i) {
    if (providers_[i] == provider) return i;
  }
  return providers_.size() - 1;
}

void PayoutMetrics::finished(const store::PayoutRecord& payout) {
  if (payout.status == store::PayoutStatus::kProcessing) return;
  const std::size_t provider = provider_index(payout.tenant);
  const bool success = payout.status == store::PayoutStatus::kSuccess;
  outcomes_.add(provider * kOutcomes + (success ? 0 : 1));
  if (success)
    amounts_.add(provider * Currency::known_count() + payout.currency.index(), payout.amount);
}

void PayoutMetrics::write(metrics::Exposition& out) const {
  using metrics::Type;
  out.family("payoutd_payouts_total", Type::kCounter,
             "Payouts made final (success or declined) by this node, by provider and outcome.");
  for (std::size_t p = 0; p < providers_.size(); ++p) {
    for (std::size_t o = 0; o < kOutcomes; ++o) {
      out.sample({{"provider", providers_[p]}, {"outcome", kOutcomeNames[o]}},
                 outcomes_.value(p * kOutcomes + o));
    }
  }
  out.family("payoutd_payout_amount_minor_total", Type::kCounter,
             "Money paid out by successful payouts, in minor units of the currency (kopecks, "
             "tiyn, cents), by provider and currency.");
  for (std::size_t p = 0; p < providers_.size(); ++p) {
    for (std::size_t c = 0; c < Currency::known_count(); ++c) {
      const std::int64_t minor = amounts_.value(p * Currency::known_count() + c);
      if (minor == 0) continue;  // a series per currency ever paid, not the whole table
      out.sample({{"provider", providers_[p]}, {"currency", Currency::known(c).code()}}, minor);
    }
  }
}

}  // namespace payoutd::engine
