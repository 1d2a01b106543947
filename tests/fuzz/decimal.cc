// Fuzz target: decimal amounts (parse_decimal and format_decimal, core/money.h), which read every
// amount a partner sends ("100.50" in JSON, a form or a query string).
// For any bytes, and every exponent from 0 to kExponentMax:
// - parse_decimal never crashes or overflows (UBSan), and what it accepts lies within
//   ±kAmountMinorMax minor units and is a JSON number literal;
// - format_decimal of what it accepted parses back to the same minor units, and is the very input
//   when the input has exactly the exponent's fraction digits (and is not a negative zero);
// - a JSON number literal without an exponent part and with no more fraction digits than the
//   exponent is accepted, or refused only as kTooLarge;
// - the first 8 bytes as an int64 m: format_decimal(m, e) is never refused as syntax, and
//   parses back to m whenever |m| <= kAmountMinorMax.
#include "check.h"
#include "core/json.h"
#include "core/money.h"

#include <cstring>
#include <string>

namespace {

using payoutd::DecimalError;

std::size_t fraction_digits(std::string_view text) {
  const auto dot = text.find('.');
  return dot == std::string_view::npos ? 0 : text.size() - dot - 1;
}

void check_text(std::string_view text, int exponent) {
  const payoutd::DecimalParse parsed = payoutd::parse_decimal(text, exponent);
  const bool literal = payoutd::json::is_number_literal(text);
  const bool plain = text.find_first_of("eE") == std::string_view::npos;
  if (literal && plain && fraction_digits(text) <= static_cast<std::size_t>(exponent)) {
    FUZZ_CHECK(parsed.error == DecimalError::kNone || parsed.error == DecimalError::kTooLarge);
  }
  if (parsed.error != DecimalError::kNone) {
    FUZZ_CHECK(parsed.minor == 0);
    FUZZ_CHECK(!payoutd::describe(parsed.error).empty());
    return;
  }
  FUZZ_CHECK(literal);
  FUZZ_CHECK(parsed.minor >= -payoutd::kAmountMinorMax && parsed.minor <= payoutd::kAmountMinorMax);
  const std::string formatted = payoutd::format_decimal(parsed.minor, exponent);
  const payoutd::DecimalParse again = payoutd::parse_decimal(formatted, exponent);
  FUZZ_CHECK(again.error == DecimalError::kNone && again.minor == parsed.minor);
  const bool negative_zero = text.starts_with('-') && parsed.minor == 0;
  const bool exact_digits = exponent == 0
                                ? text.find('.') == std::string_view::npos
                                : fraction_digits(text) == static_cast<std::size_t>(exponent);
  if (exact_digits && !negative_zero) FUZZ_CHECK(formatted == text);
}

void check_minor(std::int64_t minor, int exponent) {
  const std::string formatted = payoutd::format_decimal(minor, exponent);
  const payoutd::DecimalParse parsed = payoutd::parse_decimal(formatted, exponent);
  FUZZ_CHECK(parsed.error == DecimalError::kNone || parsed.error == DecimalError::kTooLarge);
  const bool in_range = minor >= -payoutd::kAmountMinorMax && minor <= payoutd::kAmountMinorMax;
  if (in_range) FUZZ_CHECK(parsed.error == DecimalError::kNone && parsed.minor == minor);
  std::string appended = "x";
  payoutd::append_decimal(appended, minor, exponent);
  FUZZ_CHECK(appended == "x" + formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = payoutd::fuzz::text_of(data, size);
  std::int64_t minor = 0;
  const bool has_minor = size >= sizeof minor;
  if (has_minor) std::memcpy(&minor, data, sizeof minor);
  for (int exponent = 0; exponent <= payoutd::kExponentMax; ++exponent) {
    check_text(text, exponent);
    if (has_minor) check_minor(minor, exponent);
  }
  return 0;
}
