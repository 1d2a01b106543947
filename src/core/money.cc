#include "core/money.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstddef>
#include <system_error>

namespace payoutd {
namespace {

struct CurrencyInfo {
  char code[4];  // NUL-terminated only to allow string literals in the table
  int exponent;
};

// ISO 4217 minor units. Entry 0 is the default Currency (RUB); Currency stores an index here,
// so entries may be appended but never reordered.
constexpr CurrencyInfo kCurrencies[] = {
    {"RUB", 2}, {"EUR", 2}, {"USD", 2}, {"KZT", 2}, {"GBP", 2}, {"CAD", 2}, {"JPY", 0},
    {"KWD", 3}, {"AED", 2}, {"AMD", 2}, {"AUD", 2}, {"AZN", 2}, {"BHD", 3}, {"BYN", 2},
    {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"CZK", 2}, {"DKK", 2}, {"GEL", 2}, {"HKD", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"KGS", 2}, {"KRW", 0},
    {"LYD", 3}, {"MDL", 2}, {"NOK", 2}, {"OMR", 3}, {"PLN", 2}, {"SEK", 2}, {"SGD", 2},
    {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TRY", 2}, {"UAH", 2}, {"UZS", 2}, {"VND", 0},
};
constexpr std::size_t kCurrencyCount = std::size(kCurrencies);
static_assert(kCurrencyCount <= 256, "Currency stores its index in a uint8_t");

// A decimal literal split into its parts; see parse_decimal for the grammar.
struct DecimalParts {
  bool negative = false;
  std::string_view integer;   // "0" or digits without a leading zero
  std::string_view fraction;  // digits after '.', possibly empty
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip_digits(std::string_view text, std::size_t i) {
  while (i < text.size() && is_digit(text[i])) ++i;
  return i;
}

// Whether text[i..] is exactly an exponent part: [eE][+-]?[0-9]+.
bool is_exponent_part(std::string_view text, std::size_t i) {
  if (i >= text.size() || (text[i] != 'e' && text[i] != 'E')) return false;
  ++i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits = i;
  i = skip_digits(text, i);
  return i > digits && i == text.size();
}

// Splits non-empty `text` per the grammar; kSyntax or kExponent when it does not match.
DecimalError split_decimal(std::string_view text, DecimalParts& parts) {
  std::size_t i = 0;
  parts.negative = text[0] == '-';
  if (parts.negative) ++i;
  const std::size_t integer_begin = i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (i < text.size() && text[i] >= '1' && text[i] <= '9') {
    i = skip_digits(text, i);
  } else {
    return DecimalError::kSyntax;
  }
  parts.integer = text.substr(integer_begin, i - integer_begin);
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction_begin = ++i;
    i = skip_digits(text, i);
    if (i == fraction_begin) return DecimalError::kSyntax;  // "1."
    parts.fraction = text.substr(fraction_begin, i - fraction_begin);
  }
  if (i == text.size()) return DecimalError::kNone;
  return is_exponent_part(text, i) ? DecimalError::kExponent : DecimalError::kSyntax;
}

// Appends `digits` to `*value` in base 10; false as soon as it exceeds kAmountMinorMax. The
// early exit keeps `*value` <= 10^15, so `*value * 10 + 9` never overflows, whatever the length.
bool accumulate(std::uint64_t* value, std::string_view digits) {
  constexpr auto kMax = static_cast<std::uint64_t>(kAmountMinorMax);
  for (const char c : digits) {
    *value = *value * 10 + static_cast<std::uint64_t>(c - '0');
    if (*value > kMax) return false;
  }
  return true;
}

DecimalParse fail(DecimalError e) { return DecimalParse{0, e}; }

}  // namespace

std::optional<Currency> Currency::from_code(std::string_view code) {
  if (code.size() != 3) return std::nullopt;
  for (std::size_t i = 0; i < kCurrencyCount; ++i) {
    if (code == std::string_view(kCurrencies[i].code, 3)) {
      return Currency(static_cast<std::uint8_t>(i));
    }
  }
  return std::nullopt;
}

std::string_view Currency::code() const { return std::string_view(kCurrencies[index_].code, 3); }

int Currency::exponent() const { return kCurrencies[index_].exponent; }

std::size_t Currency::known_count() { return kCurrencyCount; }

Currency Currency::known(std::size_t index) {
  assert(index < kCurrencyCount);
  return Currency(static_cast<std::uint8_t>(index));
}

DecimalParse parse_decimal(std::string_view text, int exponent) {
  assert(exponent >= 0 && exponent <= kExponentMax);
  if (exponent < 0 || exponent > kExponentMax) return fail(DecimalError::kSyntax);
  if (text.empty()) return fail(DecimalError::kEmpty);
  DecimalParts parts;
  if (const DecimalError e = split_decimal(text, parts); e != DecimalError::kNone) return fail(e);
  const auto fraction_digits =
      static_cast<int>(std::min<std::size_t>(parts.fraction.size(), kExponentMax + 1));
  if (fraction_digits > exponent) return fail(DecimalError::kTooManyFractionDigits);

  std::uint64_t magnitude = 0;
  if (!accumulate(&magnitude, parts.integer) || !accumulate(&magnitude, parts.fraction)) {
    return fail(DecimalError::kTooLarge);
  }
  // Scale to minor units. Zero stays zero; anything else exceeds the cap within 16 steps.
  for (int i = fraction_digits; i < exponent && magnitude != 0; ++i) {
    if (!accumulate(&magnitude, "0")) return fail(DecimalError::kTooLarge);
  }
  const auto minor = static_cast<std::int64_t>(magnitude);
  return DecimalParse{parts.negative ? -minor : minor, DecimalError::kNone};
}

std::string_view describe(DecimalError e) {
  switch (e) {
    case DecimalError::kNone:
      return "is a valid amount";
    case DecimalError::kEmpty:
      return "is empty";
    case DecimalError::kSyntax:
      return "is not a plain decimal number";
    case DecimalError::kExponent:
      return "must not use exponent notation";
    case DecimalError::kTooManyFractionDigits:
      return "has more fraction digits than the currency allows";
    case DecimalError::kTooLarge:
      return "is too large";
  }
  return "is invalid";
}

std::string format_decimal(std::int64_t minor, int exponent) {
  std::string out;
  append_decimal(out, minor, exponent);
  return out;
}

void append_decimal(std::string& out, std::int64_t minor, int exponent) {
  assert(exponent >= 0 && exponent <= kExponentMax);
  const auto scale = static_cast<std::size_t>(std::clamp(exponent, 0, kExponentMax));
  // Unsigned negation is exact for INT64_MIN, whose magnitude int64 cannot hold.
  const std::uint64_t magnitude =
      minor < 0 ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  char digits[20];  // 2^64 has 20 digits
  const auto [digits_end, ec] = std::to_chars(digits, digits + sizeof digits, magnitude);
  assert(ec == std::errc());
  const auto length = static_cast<std::size_t>(digits_end - digits);

  // Sign, up to 20 integer digits or "0", '.', and up to kExponentMax fraction digits.
  char buffer[1 + 20 + 1 + kExponentMax];
  char* w = buffer;
  if (minor < 0) *w++ = '-';
  if (length > scale) {
    w = std::copy(digits, digits_end - scale, w);
  } else {
    *w++ = '0';
  }
  if (scale > 0) {
    *w++ = '.';
    const std::size_t fraction_zeros = scale > length ? scale - length : 0;
    w = std::fill_n(w, fraction_zeros, '0');
    w = std::copy(digits_end - (scale - fraction_zeros), digits_end, w);
  }
  out.append(buffer, w);
}

}  // namespace payoutd
