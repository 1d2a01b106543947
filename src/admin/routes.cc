#include "admin/routes.h"

#include <algorithm>

namespace payoutd::admin {
namespace {

// The next space- or slash-separated word of `list` from `*at`, moving `*at` past it.
std::string_view next_word(std::string_view list, char separator, std::size_t* at) {
  const std::size_t end = std::min(list.find(separator, *at), list.size());
  const std::string_view word = list.substr(*at, end - *at);
  *at = end + 1;
  return word;
}

}  // namespace

bool path_matches(std::string_view pattern, std::span<const std::string> path, Match match) {
  std::size_t at = 0;
  std::size_t segment = 0;
  while (at <= pattern.size()) {
    const std::string_view expected = next_word(pattern, '/', &at);
    if (segment == path.size()) return false;
    if (expected != "*" && expected != path[segment]) return false;
    ++segment;
  }
  return match == Match::kPrefix || segment == path.size();
}

bool method_listed(std::string_view methods, std::string_view method) {
  std::size_t at = 0;
  while (at <= methods.size()) {
    if (next_word(methods, ' ', &at) == method) return true;
  }
  return false;
}

}  // namespace payoutd::admin
