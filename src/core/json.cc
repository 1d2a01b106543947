#include "core/json.h"

#include <cassert>
#include <charconv>
#include <system_error>

namespace payoutd::json {
namespace {

// Fallbacks for accessors called on the wrong kind (a caller bug; see the header).
const std::string& empty_string() {
  static const std::string empty;
  return empty;
}
const Value::Array& empty_array() {
  static const Value::Array empty;
  return empty;
}
const Value::Object& empty_object() {
  static const Value::Object empty;
  return empty;
}

}  // namespace

Value::Value() = default;

Value Value::null() { return Value(); }
Value Value::boolean(bool b) { return Value(std::in_place_type<bool>, b); }

Value Value::number(std::string literal) {
  assert(is_number_literal(literal));
  return Value(std::in_place_type<Number>, Number{std::move(literal)});
}

Value Value::string(std::string s) { return Value(std::in_place_type<std::string>, std::move(s)); }
Value Value::array(Array items) { return Value(std::in_place_type<Array>, std::move(items)); }
Value Value::object(Object members) {
  return Value(std::in_place_type<Object>, std::move(members));
}

bool Value::as_bool() const {
  assert(is_bool());
  const bool* b = std::get_if<bool>(&data_);
  return b != nullptr && *b;
}

std::string_view Value::number_text() const {
  assert(is_number());
  const Number* n = std::get_if<Number>(&data_);
  return n != nullptr ? std::string_view(n->literal) : std::string_view();
}

const std::string& Value::as_string() const {
  assert(is_string());
  const std::string* s = std::get_if<std::string>(&data_);
  return s != nullptr ? *s : empty_string();
}

const Value::Array& Value::as_array() const {
  assert(is_array());
  const Array* a = std::get_if<Array>(&data_);
  return a != nullptr ? *a : empty_array();
}

const Value::Object& Value::as_object() const {
  assert(is_object());
  const Object* o = std::get_if<Object>(&data_);
  return o != nullptr ? *o : empty_object();
}

const Value* Value::find(std::string_view key) const {
  const Object* o = std::get_if<Object>(&data_);
  if (o == nullptr) return nullptr;
  for (const Member& member : *o) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

std::optional<std::int64_t> Value::as_int64() const {
  const Number* n = std::get_if<Number>(&data_);
  if (n == nullptr) return std::nullopt;
  const std::string& text = n->literal;
  if (text.find_first_of(".eE") != std::string::npos) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string string_member(const Value& v, std::string_view key) {
  const Value* m = v.find(key);
  return m && m->is_string() ? m->as_string() : std::string();
}

std::int64_t int_member(const Value& v, std::string_view key) {
  const Value* m = v.find(key);
  return m ? m->as_int64().value_or(0) : 0;
}

}  // namespace payoutd::json
