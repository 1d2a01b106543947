// Every provider payoutd speaks: a new provider is a folder under src/providers/ and one line
// here (docs/adding-a-provider.md).
#include "providers/bereke/provider.h"
#include "providers/ecommpay/provider.h"
#include "providers/qiwi/provider.h"

namespace payoutd::providers {

std::span<const Module> modules() {
  static const Module kModules[] = {
      qiwi::module(),
      bereke::module(),
      ecommpay::module(),
  };
  return kModules;
}

}  // namespace payoutd::providers
