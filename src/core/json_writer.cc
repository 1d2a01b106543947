// The writer of core/json.h: Writer and to_string().
#include "core/json.h"

#include <cassert>
#include <charconv>
#include <system_error>
#include <vector>

#include "core/json_text.h"

namespace payoutd::json {

using detail::append_escaped;

void Writer::begin_item() {
  if (comma_due_) out_.push_back(',');
}

Writer& Writer::scalar(std::string_view text) {
  begin_item();
  out_.append(text);
  comma_due_ = true;
  return *this;
}

Writer& Writer::begin_object() {
  begin_item();
  out_.push_back('{');
  comma_due_ = false;
  return *this;
}

Writer& Writer::end_object() {
  out_.push_back('}');
  comma_due_ = true;
  return *this;
}

Writer& Writer::begin_array() {
  begin_item();
  out_.push_back('[');
  comma_due_ = false;
  return *this;
}

Writer& Writer::end_array() {
  out_.push_back(']');
  comma_due_ = true;
  return *this;
}

Writer& Writer::key(std::string_view k) {
  begin_item();
  out_.push_back('"');
  append_escaped(out_, k);
  out_.append("\":");
  comma_due_ = false;  // the member's value follows the colon directly
  return *this;
}

Writer& Writer::string(std::string_view s) {
  begin_item();
  out_.push_back('"');
  append_escaped(out_, s);
  out_.push_back('"');
  comma_due_ = true;
  return *this;
}

Writer& Writer::raw(std::string_view json) { return scalar(json); }

Writer& Writer::number_raw(std::string_view literal) {
  assert(is_number_literal(literal));
  return scalar(literal);
}

Writer& Writer::integer(std::int64_t v) {
  char buffer[24];  // 19 digits and a sign
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  assert(ec == std::errc());
  return scalar(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
}

Writer& Writer::boolean(bool v) { return scalar(v ? "true" : "false"); }

Writer& Writer::null() { return scalar("null"); }

// Depth-first with an explicit stack, so even a Value built by hand to any depth is safe.
Writer& Writer::value(const Value& root) {
  struct Open {
    const Value* container;
    std::size_t next;  // index of the next item to write
  };
  std::vector<Open> stack;
  const Value* v = &root;
  for (;;) {
    if (v != nullptr) {
      switch (v->kind()) {
        case Value::Kind::kNull:
          null();
          break;
        case Value::Kind::kBool:
          boolean(v->as_bool());
          break;
        case Value::Kind::kNumber:
          number_raw(v->number_text());
          break;
        case Value::Kind::kString:
          string(v->as_string());
          break;
        case Value::Kind::kArray:
          begin_array();
          stack.push_back({v, 0});
          break;
        case Value::Kind::kObject:
          begin_object();
          stack.push_back({v, 0});
          break;
      }
    }
    if (stack.empty()) return *this;
    Open& top = stack.back();
    const std::size_t i = top.next++;
    v = nullptr;
    if (top.container->is_array()) {
      const Value::Array& items = top.container->as_array();
      if (i < items.size()) {
        v = &items[i];
      } else {
        end_array();
        stack.pop_back();
      }
    } else {
      const Value::Object& members = top.container->as_object();
      if (i < members.size()) {
        key(members[i].first);
        v = &members[i].second;
      } else {
        end_object();
        stack.pop_back();
      }
    }
  }
}

std::string to_string(const Value& v) {
  std::string out;
  Writer(out).value(v);
  return out;
}

}  // namespace payoutd::json
