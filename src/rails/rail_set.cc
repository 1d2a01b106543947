#include "rails/rail_set.h"

#include <algorithm>

#include "core/assert.h"

namespace payoutd::rails {

void RailSet::add(CardRail& rail) {
  PAYOUTD_ASSERT(find(rail.name()) == nullptr, "rail names are unique");
  rails_.push_back(&rail);
}

CardRail* RailSet::find(std::string_view name) const {
  const auto it =
      std::find_if(rails_.begin(), rails_.end(), [name](CardRail* r) { return r->name() == name; });
  return it == rails_.end() ? nullptr : *it;
}

void RailSet::stop() {
  for (CardRail* r : rails_) r->stop();
}

}  // namespace payoutd::rails
