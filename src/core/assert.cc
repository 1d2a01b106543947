#include "core/assert.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace payoutd {

void assertion_failed(std::string_view condition, std::string_view what, std::string_view file,
                      int line) noexcept {
  // stderr first: the logger may be what is broken.
  (void)std::fprintf(stderr, "%.*s:%d: invariant %.*s broken: %.*s\n",
                     static_cast<int>(file.size()), file.data(), line,
                     static_cast<int>(condition.size()), condition.data(),
                     static_cast<int>(what.size()), what.data());
  (void)std::fflush(stderr);
  try {
    spdlog::critical("{}:{}: invariant {} broken: {}", file, line, condition, what);
    spdlog::shutdown();
  } catch (...) {
  }
  std::abort();
}

}  // namespace payoutd
