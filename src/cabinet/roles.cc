#include "cabinet/roles.h"

#include <array>

namespace payoutd::cabinet {

namespace {

constexpr std::array kRoles{Role::kViewer, Role::kCards, Role::kSettings};

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kCards:
      return "cards";
    case Role::kSettings:
      return "settings";
  }
  return "viewer";
}

ParsedRoles parse_roles(const std::vector<std::string>& names) {
  ParsedRoles out;
  if (names.empty()) {
    out.error = RolesError::kEmpty;
    return out;
  }
  for (const std::string& name : names) {
    bool known = false;
    for (Role role : kRoles) {
      if (role_name(role) != name) continue;
      out.roles = out.roles.with(role);
      known = true;
    }
    if (!known) {
      out.error = RolesError::kUnknown;
      out.unknown = name;
      return out;
    }
  }
  return out;
}

std::string role_names() {
  std::string out;
  for (Role role : kRoles) out.append(out.empty() ? "" : ", ").append(role_name(role));
  return out;
}

}  // namespace payoutd::cabinet
