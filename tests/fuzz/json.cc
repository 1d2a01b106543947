// Fuzz target: the JSON parser and writer (core/json.h), which read every API request body.
// For any bytes:
// - parse() never crashes, leaks, reads outside the input or fails a sanitizer check, with the
//   default Limits and with trailing commas allowed (the Bereke dialect's setting);
// - it gives exactly one of a value and an error, and an error's offset lies within the input;
// - what it accepts, to_string() writes as JSON that parses back to an equal Value, and writing
//   that again gives the same bytes (the Writer's output is canonical);
// - allowing trailing commas accepts everything the strict parse accepts, with an equal value,
//   and the strict parse refuses what only the lenient one accepts as "trailing comma";
// - a number's as_int64(), when set, is the integer its literal spells;
// - Writer::string() of the raw bytes is always JSON: it parses back to the same bytes, or (for
//   bytes that are not UTF-8) to text carrying U+FFFD.
#include "core/json.h"
#include "check.h"

#include <string>

namespace {

using payoutd::json::Value;

void check_numbers(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNumber: {
      FUZZ_CHECK(payoutd::json::is_number_literal(v.number_text()));
      if (const auto integer = v.as_int64()) {
        FUZZ_CHECK(std::to_string(*integer) == v.number_text() || v.number_text() == "-0");
      }
      return;
    }
    case Value::Kind::kArray:
      for (const Value& item : v.as_array()) check_numbers(item);
      return;
    case Value::Kind::kObject:
      for (const auto& [key, member] : v.as_object()) check_numbers(member);
      return;
    default:
      return;
  }
}

void check_round_trip(const Value& v, const payoutd::json::Limits& limits) {
  const std::string written = payoutd::json::to_string(v);
  const auto again = payoutd::json::parse(written, limits);
  FUZZ_CHECK(again.value.has_value());
  FUZZ_CHECK(*again.value == v);
  FUZZ_CHECK(payoutd::json::to_string(*again.value) == written);
}

void check_string_writer(std::string_view bytes) {
  std::string out;
  payoutd::json::Writer(out).string(bytes);
  const auto back = payoutd::json::parse(out);
  FUZZ_CHECK(back.value && back.value->is_string());
  const std::string& text = back.value->as_string();
  FUZZ_CHECK(text == bytes || text.find("\xEF\xBF\xBD") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = payoutd::fuzz::text_of(data, size);
  const payoutd::json::Limits strict;
  payoutd::json::Limits lenient;
  lenient.trailing_commas = true;

  const auto parsed = payoutd::json::parse(text, strict);
  const auto relaxed = payoutd::json::parse(text, lenient);
  for (const auto* result : {&parsed, &relaxed}) {
    FUZZ_CHECK(result->value.has_value() == result->error.message.empty());
    FUZZ_CHECK(result->error.offset <= text.size());
  }
  if (parsed.value) {
    FUZZ_CHECK(relaxed.value && *relaxed.value == *parsed.value);
    check_numbers(*parsed.value);
    check_round_trip(*parsed.value, strict);
  } else if (relaxed.value) {
    FUZZ_CHECK(parsed.error.message == "trailing comma");
    check_round_trip(*relaxed.value, strict);  // the writer never writes a trailing comma
  }
  check_string_writer(text);
  return 0;
}
