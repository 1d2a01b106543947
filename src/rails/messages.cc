#include "rails/messages.h"

namespace payoutd::rails {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string string_member(const json::Value* object, std::string_view key) {
  if (!object) return {};
  const json::Value* v = object->find(key);
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace payoutd::rails

namespace payoutd::rails {

namespace {

Party party_of(const json::Value& o, std::string_view prefix) {
  const auto member = [&o, prefix](std::string_view name) {
    return std::string(trimmed(string_member(&o, std::string(prefix) + std::string(name))));
  };
  return {member("wallet_id"), member("first_name"), member("last_name"), member("country"),
          member("state"),     member("city"),       member("address"),   member("zip")};
}

}  // namespace

Parties parties_of(const CreditOrder& order) {
  Parties p;
  json::ParseResult parsed = json::parse(order.parties);
  if (parsed.value && parsed.value->is_object()) {
    p.sender = party_of(*parsed.value, "sender_");
    p.recipient = party_of(*parsed.value, "recipient_");
  }
  if (!p.recipient.named()) {
    const std::string_view holder = trimmed(order.cardholder);
    const std::size_t space = holder.rfind(' ');
    if (space != std::string_view::npos) {
      p.recipient.first_name = std::string(trimmed(holder.substr(0, space)));
      p.recipient.last_name = std::string(holder.substr(space + 1));
    }
  }
  return p;
}

}  // namespace payoutd::rails
