#include "engine/cards/records.h"

#include <array>
#include <utility>

#include "core/assert.h"
#include "core/json.h"
#include "rails/rail_set.h"

namespace payoutd::engine {
namespace {

// --- one field list, two directions ---------------------------------------------------------
//
// A record's fields are a generic function `fields(codec, record)` that names each field once:
//   c.text(key, s)                 a string, left out when empty
//   c.text(key, s, kAlways)        a string, always written
//   c.integer(key, n)              an integer, an int or an enum's number, always written
//   c.count(key, n)                an int, left out when 0 (a field later releases added)
//   c.flag(key, b, when)           the integer 1 when b == when, left out otherwise
//   c.name(key, e, names)          an enum kept as its name
//   c.option(key, e, names)        the same, left out when it is the first name's value (a field
//                                  later releases added: absent reads as the first)
// FieldWriter runs it over a const record to write the JSON object, FieldReader over a fresh one
// to read it back. The order of the lines is the order of the keys in the stored document.

enum class Presence : std::uint8_t { kWhenSet, kAlways };
constexpr Presence kAlways = Presence::kAlways;

constexpr std::array<std::pair<EnrolmentState, std::string_view>, 4> kEnrolmentStates{{
    {EnrolmentState::kCodeSent, "code-sent"},
    {EnrolmentState::kVerifying, "verifying"},
    {EnrolmentState::kBound, "bound"},
    {EnrolmentState::kDeclined, "declined"},
}};
constexpr std::array<std::pair<rails::Program, std::string_view>, 2> kPrograms{{
    {rails::Program::kDisbursement, "disbursement"},
    {rails::Program::kPersonToPerson, "person-to-person"},
}};
constexpr std::array<std::pair<BindingKind, std::string_view>, 2> kBindingKinds{{
    {BindingKind::kRecipient, "recipient"},
    {BindingKind::kDebit, "debit"},
}};

class FieldWriter {
 public:
  explicit FieldWriter(json::Writer& w) : w_(w) {}

  void text(std::string_view key, const std::string& s, Presence presence = Presence::kWhenSet) {
    if (presence == Presence::kAlways || !s.empty()) w_.key(key).string(s);
  }
  template <typename Number>
  void integer(std::string_view key, const Number& n) {
    w_.key(key).integer(static_cast<std::int64_t>(n));
  }
  void count(std::string_view key, const int& n) {
    if (n != 0) w_.key(key).integer(n);
  }
  void flag(std::string_view key, const bool& b, bool when) {
    if (b == when) w_.key(key).integer(1);
  }
  void attempts(std::string_view key, const std::vector<RailAttempt>& list) {
    if (list.empty()) return;
    w_.key(key).begin_array();
    for (const RailAttempt& a : list) {
      w_.begin_array().string(a.rail).string(a.result).string(a.code).string(a.text);
      w_.integer(a.at_ms).end_array();
    }
    w_.end_array();
  }
  template <typename Enum, typename Table>
  void name(std::string_view key, const Enum& e, const Table& names) {
    for (const auto& [value, spelled] : names) {
      if (value == e) {
        w_.key(key).string(spelled);
        return;
      }
    }
    PAYOUTD_ASSERT(false, "every value of a stored enum has its name");
  }
  template <typename Enum, typename Table>
  void option(std::string_view key, const Enum& e, const Table& names) {
    if (e != names.front().first) name(key, e, names);
  }

 private:
  json::Writer& w_;
};

class FieldReader {
 public:
  explicit FieldReader(const json::Value& object) : object_(object) {}

  void text(std::string_view key, std::string& s, Presence = Presence::kWhenSet) {
    const json::Value* v = object_.find(key);
    s = v && v->is_string() ? v->as_string() : std::string();
  }
  template <typename Number>
  void integer(std::string_view key, Number& n) {
    n = static_cast<Number>(int_member(key));
  }
  void count(std::string_view key, int& n) { n = static_cast<int>(int_member(key)); }
  void flag(std::string_view key, bool& b, bool when) { b = int_member(key) != 0 ? when : !when; }
  void attempts(std::string_view key, std::vector<RailAttempt>& list) {
    list.clear();
    const json::Value* v = object_.find(key);
    if (!v || !v->is_array()) return;
    for (const json::Value& item : v->as_array()) {
      const bool whole = item.is_array() && item.as_array().size() == 5;
      if (!whole) {
        damaged_ = true;
        return;
      }
      const auto& a = item.as_array();
      for (int i = 0; i < 4; ++i) {
        if (!a[i].is_string()) damaged_ = true;
      }
      if (damaged_) return;
      list.push_back({a[0].as_string(), a[1].as_string(), a[2].as_string(), a[3].as_string(),
                      a[4].as_int64().value_or(0)});
    }
  }
  template <typename Enum, typename Table>
  void name(std::string_view key, Enum& e, const Table& names) {
    std::string stored;
    text(key, stored);
    for (const auto& [value, spelled] : names) {
      if (spelled == stored) {
        e = value;
        return;
      }
    }
    damaged_ = true;
  }
  template <typename Enum, typename Table>
  void option(std::string_view key, Enum& e, const Table& names) {
    if (object_.find(key)) return name(key, e, names);
    e = names.front().first;
  }

  bool damaged() const { return damaged_; }

 private:
  std::int64_t int_member(std::string_view key) const {
    const json::Value* v = object_.find(key);
    return v && v->is_number() ? v->as_int64().value_or(0) : 0;
  }

  const json::Value& object_;
  bool damaged_ = false;
};

std::optional<json::Value> parse_object(std::string_view text) {
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value);
}

template <typename Record, typename Fields>
std::string encode(const Record& record, Fields fields) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  FieldWriter writer(w);
  fields(writer, record);
  w.end_object();
  return out;
}

template <typename Record, typename Fields>
std::optional<Record> decode(std::string_view text, Fields fields, Record record = {}) {
  const std::optional<json::Value> object = parse_object(text);
  if (!object) return std::nullopt;
  FieldReader reader(*object);
  fields(reader, record);
  if (reader.damaged()) return std::nullopt;
  return record;
}

// --- the records' fields ------------------------------------------------------------------------

// CardOrder::code_plain is never stored; save_card is kept as "no_save": 1 when false.
constexpr auto kOrderFields = [](auto& c, auto& o) {
  c.text("order_id", o.order_id, kAlways);
  c.integer("stage", o.stage);
  c.text("card_id", o.card_id);
  c.text("masked_pan", o.masked_pan);
  c.text("scheme", o.scheme);
  c.text("country", o.country);
  c.text("cardholder", o.cardholder);
  c.text("client_id", o.client_id);
  c.text("email", o.email);
  c.text("phone", o.phone);
  c.text("name", o.name);
  c.text("source_binding", o.source_binding);
  c.text("target_binding", o.target_binding);
  c.text("description", o.description);
  c.text("language", o.language);
  c.text("return_url", o.return_url);
  c.text("fail_url", o.fail_url);
  c.text("knp", o.knp);
  c.text("rail_state", o.rail_state);
  c.text("approval", o.approval);
  c.text("rail_code", o.rail_code);
  c.text("rail_text", o.rail_text);
  c.text("callback_url", o.callback_url);
  c.text("client_ip", o.client_ip);
  c.text("request_id", o.request_id);
  c.text("params", o.params_json);
  c.text("parties", o.parties);
  c.option("program", o.program, kPrograms);
  c.integer("fee", o.fee);
  c.integer("expires_ms", o.expires_ms);
  c.integer("operation_ms", o.operation_ms);
  c.integer("rail_checks", o.rail_checks);
  c.count("rail_not_sent", o.rail_not_sent);
  c.text("rail", o.rail);
  c.text("rail_fallback", o.rail_fallback);
  c.count("rail_sends", o.rail_sends);
  c.attempts("rail_attempts", o.rail_attempts);
  c.text("code_hash", o.code_hash);
  c.flag("no_save", o.save_card, false);
  c.integer("code_expires_ms", o.code_expires_ms);
  c.integer("code_attempts", o.code_attempts);
  c.integer("codes_sent", o.codes_sent);
};

constexpr auto kBindingFields = [](auto& c, auto& b) {
  c.name("type", b.kind, kBindingKinds);
  c.text("client_id", b.client_id, kAlways);
  c.text("card_id", b.card_id, kAlways);
  c.text("masked", b.masked, kAlways);
  c.text("holder", b.holder);
  c.text("expiry", b.expiry);
  c.flag("deleted", b.deleted, true);
  c.integer("created_ms", b.created_ms);
};

constexpr auto kEnrolmentFields = [](auto& c, auto& e) {
  c.name("state", e.state, kEnrolmentStates);
  c.text("card_id", e.card_id, kAlways);
  c.text("masked", e.masked_pan, kAlways);
  c.text("holder", e.holder, kAlways);
  c.text("expiry", e.expiry, kAlways);
  c.text("phone", e.phone, kAlways);
  c.text("binding_id", e.binding_id, kAlways);
  c.text("reason", e.reason, kAlways);
  c.text("code_hash", e.code_hash, kAlways);
  c.integer("code_expires_ms", e.code_expires_ms);
  c.integer("created_ms", e.created_ms);
  c.integer("attempts", e.attempts);
};

constexpr auto kVaultedCardFields = [](auto& c, auto& v) {
  c.text("sealed", v.sealed, kAlways);
  c.text("masked", v.masked, kAlways);
  c.text("scheme", v.scheme, kAlways);
  c.text("country", v.country, kAlways);
  c.integer("created_ms", v.created_ms);
};

}  // namespace

std::string order_to_json(const CardOrder& order) { return encode(order, kOrderFields); }
std::optional<CardOrder> order_from_json(std::string_view text) {
  std::optional<CardOrder> order = decode<CardOrder>(text, kOrderFields);
  // Stored before rails had names: an order that went to the network went to the sandbox's.
  const auto went_to_rail = [](const CardOrder& o) {
    return o.stage == OrderStage::kSending || o.stage == OrderStage::kAwaiting ||
           o.operation_ms != 0;
  };
  if (order && order->rail.empty() && went_to_rail(*order)) order->rail = rails::kLegacyRail;
  return order;
}

std::string binding_to_json(const Binding& binding) { return encode(binding, kBindingFields); }
std::optional<Binding> binding_from_json(std::string_view text) {
  return decode<Binding>(text, kBindingFields);
}

std::string enrolment_to_json(const Enrolment& enrolment) {
  return encode(enrolment, kEnrolmentFields);
}
std::optional<Enrolment> enrolment_from_json(std::string_view id, std::string_view text) {
  Enrolment e;
  e.id = std::string(id);
  return decode<Enrolment>(text, kEnrolmentFields, std::move(e));
}

std::string vaulted_card_to_json(const VaultedCard& card) {
  return encode(card, kVaultedCardFields);
}
std::optional<VaultedCard> vaulted_card_from_json(std::string_view text) {
  return decode<VaultedCard>(text, kVaultedCardFields);
}

std::string usage_to_json(const Usage& usage) {
  std::string text;
  json::Writer w(text);
  w.begin_array();
  for (const Usage::Credit& c : usage.credits) {
    w.begin_array().string(c.order_id).integer(c.at_ms).integer(c.amount).end_array();
  }
  w.end_array();
  return text;
}

Usage usage_from_json(std::string_view text) {
  Usage u;
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_array()) return u;
  for (const json::Value& item : parsed.value->as_array()) {
    if (!item.is_array() || item.as_array().size() != 3) continue;
    const auto& a = item.as_array();
    if (!a[0].is_string()) continue;
    u.credits.push_back(
        {a[0].as_string(), a[1].as_int64().value_or(0), a[2].as_int64().value_or(0)});
  }
  return u;
}

}  // namespace payoutd::engine
