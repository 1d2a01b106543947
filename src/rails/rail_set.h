#pragma once
// The card rails a node sends card payouts through, by name, and the routing between them
// (docs/rails.md, "Several rails, and routing").
//
// Contract:
// - Names are unique (add() asserts it). A rail's name is the one its config gives it and the one
//   an order stores (CardOrder::rail): status checks, re-sends and reconciliation go to the rail
//   the order names, never to one chosen again later.
// - The set does not own its rails: whoever built them keeps them alive while the set is used.
// - Built before the engine starts, then only read: find() and route() may run on any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rails/rail.h"
#include "rails/routing.h"

namespace payoutd::rails {

// The name of the rail an order stored before rails had names went to (the sandbox network).
inline constexpr std::string_view kLegacyRail = "sandbox";

class RailSet {
 public:
  explicit RailSet(Routing routing) : routing_(std::move(routing)) {}

  // REQUIRES: no rail of rail.name() yet.
  void add(CardRail& rail);
  // nullptr when no rail has that name (an order naming a rail taken out of the config).
  CardRail* find(std::string_view name) const;
  // Where a tenant's payout goes (Routing::choose), nullopt: nowhere.
  std::optional<Route> route(const Tenant& tenant, const RouteQuery& q) const {
    return routing_.choose(tenant, q);
  }
  const Routing& routing() const { return routing_; }
  const std::vector<CardRail*>& rails() const { return rails_; }  // in the order added
  // Stops every rail (CardRail::stop).
  void stop();

 private:
  Routing routing_;
  std::vector<CardRail*> rails_;
};

}  // namespace payoutd::rails
