#pragma once
// What a cabinet user may do (docs/cabinet.md, "Roles"). Each user of the config
// ([[cabinet.users]], `roles`) holds one or more roles; each route of the cabinet names the role
// it needs (section.h's Route), and the cabinet checks it in one place (Pages::handle) before a
// page or a form is served. A route a user may not use is absent from the navigation and answered
// 403 with a line in the tenant's audit log.
//
// Viewing is the floor: every role includes what a viewer may do, so that every user has pages
// to read (a card manager sees the balances its cards fund).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd::cabinet {

enum class Role : std::uint8_t {
  kViewer =
      1 << 0,       // "viewer": balances, payouts, their CSV, one payout, statements, the audit log
  kCards = 1 << 1,  // "cards": Bereke's My cards (add and confirm a card, make primary, delete)
  kSettings = 1 << 2,  // "settings": Bereke's KNP value
};

// A user's roles, viewing always among them once any is.
class Roles {
 public:
  constexpr Roles() = default;  // none: allows nothing
  // Every role: a user whose config lists none (as before roles existed).
  static constexpr Roles all() {
    return Roles(static_cast<std::uint8_t>(Role::kViewer) |
                 static_cast<std::uint8_t>(Role::kCards) |
                 static_cast<std::uint8_t>(Role::kSettings));
  }
  // These roles and `role` (and viewing).
  constexpr Roles with(Role role) const {
    return Roles(bits_ | static_cast<std::uint8_t>(role) |
                 static_cast<std::uint8_t>(Role::kViewer));
  }
  // Whether a route that needs `needed` is open to these roles.
  constexpr bool allows(Role needed) const {
    return (bits_ & static_cast<std::uint8_t>(needed)) != 0;
  }
  constexpr bool operator==(const Roles&) const = default;

 private:
  constexpr explicit Roles(std::uint8_t bits) : bits_(bits) {}
  std::uint8_t bits_ = 0;
};

// The config's name of a role: "viewer", "cards", "settings".
std::string_view role_name(Role role);

enum class RolesError : std::uint8_t {
  kNone,
  kEmpty,    // an empty list: a user with no role could open no page
  kUnknown,  // a name that is not a role's (`unknown` says which)
};

struct ParsedRoles {
  Roles roles;
  RolesError error = RolesError::kNone;
  std::string unknown;
};

// The roles a config's list names; a name may repeat.
ParsedRoles parse_roles(const std::vector<std::string>& names);

// "viewer, cards, settings": every role's name, for messages.
std::string role_names();

}  // namespace payoutd::cabinet
