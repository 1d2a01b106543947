#pragma once
// Money as integer minor units, and the exact decimal text <-> minor units conversions.
//
// Amounts are never held in binary floating point: "100.50" RUB is 10050 minor units, parsed
// digit by digit from the literal text (a JSON number's literal, see core/json.h) and formatted
// back the same way. Parsing never rounds: text that does not denote an exact number of minor
// units is rejected, so a request can never move a different amount than it says.
//
// Everything here is a pure function or an immutable value type: thread-safe, no allocation
// except where a std::string is returned or appended to, and no exceptions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace payoutd {

// An ISO 4217 currency: its alphabetic code and minor-unit exponent (fraction digits), e.g.
// RUB 2, JPY 0, KWD 3. Only currencies in payoutd's table exist; see from_code().
//
// A default-constructed Currency is RUB, payoutd's home currency, so that records such as
// ledger::Account can be default-constructed. Code that builds an Amount from outside input
// must set the currency explicitly (from_code()); the default is never a substitute for one.
class Currency {
 public:
  constexpr Currency() = default;  // RUB

  // The known currency with exactly this code ("RUB"); nullopt for anything else, including
  // lower case ("rub"), padding (" RUB") and codes payoutd does not know ("XXX").
  static std::optional<Currency> from_code(std::string_view code);

  // Three upper-case letters; the view refers to static storage, valid forever.
  std::string_view code() const;
  // Digits after the decimal point in the currency's major unit: 2 for RUB, 0 for JPY.
  int exponent() const;

  bool operator==(const Currency&) const = default;

  // The known currencies, each by its place 0..known_count()-1 in payoutd's table (dense
  // per-currency tables, such as the metrics' money moved, index by it).
  static std::size_t known_count();
  static Currency known(std::size_t index);  // REQUIRES: index < known_count()
  std::size_t index() const { return index_; }

 private:
  constexpr explicit Currency(std::uint8_t index) : index_(index) {}

  std::uint8_t index_ = 0;  // into the table in money.cc, whose entry 0 is RUB
};

// An amount of money: `minor` units of `currency` (10050 RUB minor units = 100.50 RUB). The
// currency defaults to RUB like Currency itself.
struct Amount {
  std::int64_t minor = 0;
  Currency currency;

  bool operator==(const Amount&) const = default;
};

// 10^15 minor units: sums of many amounts stay far inside int64.
inline constexpr std::int64_t kAmountMinorMax = 1'000'000'000'000'000;

// The largest exponent the decimal functions accept: 10^18 still fits in int64. Every ISO 4217
// currency has at most 4.
inline constexpr int kExponentMax = 18;

enum class DecimalError {
  kNone,
  kEmpty,                  // ""
  kSyntax,                 // not -?(0|[1-9][0-9]*)(\.[0-9]+)?, e.g. "+1", "1.", ".5", "01", " 1"
  kExponent,               // a well-formed number with an exponent part: "1e2", "1E-2"
  kTooManyFractionDigits,  // more fraction digits than the currency has, e.g. "1.005" for RUB
  kTooLarge,               // |value| > kAmountMinorMax minor units
};

struct DecimalParse {
  std::int64_t minor = 0;  // 0 unless error == kNone
  DecimalError error = DecimalError::kNone;
};

// Parses a decimal literal ("100", "100.5", "100.50", "-3.25", "0.00") into minor units of a
// currency with `exponent` fraction digits: ("100.5", 2) -> 10050.
//
// Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)? with no surrounding whitespace. "-0" and "-0.00" are 0.
// Deliberately, more fraction digits than `exponent` are an error even when they are zeros:
// "1.000" for RUB is kTooManyFractionDigits. The API states amounts with the currency's digits,
// and accepting only what can be represented exactly means no input is ever rounded.
//
// When several errors apply, the first of kEmpty, kSyntax, kExponent, kTooManyFractionDigits,
// kTooLarge is reported. Inputs of any length are handled without overflow (a 400-digit integer
// is kTooLarge) in time linear in their length.
//
// REQUIRES: 0 <= exponent <= kExponentMax (asserted; in release builds an exponent outside that
// range fails every input with kSyntax rather than guess).
DecimalParse parse_decimal(std::string_view text, int exponent);

// Short English for error messages, phrased to follow a field name:
// "transactionAmount.value: has more fraction digits than the currency allows".
std::string_view describe(DecimalError e);

// Formats minor units with exactly `exponent` fraction digits: (10050, 2) -> "100.50",
// (-5, 2) -> "-0.05", (0, 2) -> "0.00", (7, 0) -> "7". Works for the whole int64 range,
// INT64_MIN included. parse_decimal(format_decimal(m, e), e) == m whenever |m| <= kAmountMinorMax.
// REQUIRES: 0 <= exponent <= kExponentMax (asserted; clamped into that range in release builds).
std::string format_decimal(std::int64_t minor, int exponent);

// Same as format_decimal, appending to `out`; allocates nothing beyond growing `out`.
void append_decimal(std::string& out, std::int64_t minor, int exponent);

}  // namespace payoutd
