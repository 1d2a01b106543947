#pragma once
// Who calls the admin API (or acts in the operators' console): a staff member, with the roles
// that say what they may do. Every admin route names the role it needs; a call without it is
// refused 403 before anything is read or written, and every staff action is written to the
// operators' audit log under the actor's id.
#include <cstdint>
#include <string>

namespace payoutd::admin {

// What a staff member may do. A staff member holds one or more roles; every role includes
// viewer's reads.
//   viewer   reads everything an operator sees (partners, payouts, outbox, statements, audit);
//   support  also acts for partners without moving money (redelivers callbacks, suspends and
//            resumes partners, manages their cabinet users);
//   finance  moves money (credits and debits funding accounts, raises limits) and approves or
//            rejects another staff member's request to;
//   admin    manages partners (onboards, changes, rotates credentials, closes) and staff.
enum class Role : std::uint8_t { kViewer = 0, kSupport = 1, kFinance = 2, kAdmin = 3 };

// A set of roles.
class Roles {
 public:
  constexpr Roles() = default;
  static constexpr Roles all() { return Roles(0x0f); }
  static constexpr Roles of(Role role) { return Roles(bit(role)); }
  // Whether the set allows what `role` allows (any role allows viewer's reads).
  constexpr bool has(Role role) const { return role == Role::kViewer ? bits_ != 0 : granted(role); }
  // Whether `role` itself was granted (what a staff member's record lists).
  constexpr bool granted(Role role) const { return (bits_ & bit(role)) != 0; }
  constexpr Roles with(Role role) const { return Roles(bits_ | bit(role)); }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint8_t bits() const { return bits_; }
  static constexpr Roles from_bits(std::uint8_t bits) { return Roles(bits & 0x0f); }
  friend constexpr bool operator==(Roles, Roles) = default;

 private:
  constexpr explicit Roles(std::uint8_t bits) : bits_(bits) {}
  static constexpr std::uint8_t bit(Role role) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(role));
  }
  std::uint8_t bits_ = 0;
};

struct Actor {
  // The staff member's login; "admin.token" for the config's bootstrap token.
  std::string id;
  Roles roles;
  // How they authenticated: "token" (the config's admin.token), "api-key:<key id>", "console".
  std::string via;
  std::string address;  // the client's address, as the HTTP layer resolved it
};

}  // namespace payoutd::admin
