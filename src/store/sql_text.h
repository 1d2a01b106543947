#pragma once
// SQL text built at compile time. Every statement of the stores is a named constant; most are
// plain string literals. The few that must spell a stored enum value inside their text (a partial
// index's condition, which a query has to repeat word for word for the planner to use the index;
// a migration, which runs as a script without parameters) take the digits from the enumerator
// itself, here, when the program is compiled: sql::number<PayoutStatus::kProcessing>() is "0"
// because kProcessing is 0, and stays right if it ever changes. Everywhere else enum values are
// bound as parameters.
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace payoutd::store::sql {

// A statement's text. N counts the terminating NUL, as a string literal's size does.
template <std::size_t N>
struct Text {
  char chars[N] = {};

  constexpr Text() = default;
  constexpr Text(const char (&literal)[N]) { std::copy_n(literal, N, chars); }
  constexpr const char* c_str() const { return chars; }
  constexpr std::string_view view() const { return {chars, N - 1}; }
  // Implicit: whatever takes a statement takes a std::string_view.
  constexpr operator std::string_view() const { return view(); }
};

namespace detail {

template <typename T>
struct Length;
template <std::size_t N>
struct Length<char[N]> {
  static constexpr std::size_t value = N - 1;
};
template <std::size_t N>
struct Length<Text<N>> {
  static constexpr std::size_t value = N - 1;
};

template <std::size_t N>
constexpr const char* chars_of(const char (&literal)[N]) {
  return literal;
}
template <std::size_t N>
constexpr const char* chars_of(const Text<N>& text) {
  return text.chars;
}

template <typename E>
constexpr auto value_of(E e) {
  static_assert(std::is_enum_v<E>, "only enum values are spelled into SQL");
  return static_cast<std::underlying_type_t<E>>(e);
}

}  // namespace detail

// The parts (string literals and Texts) one after the other.
template <typename... Parts>
constexpr auto concat(const Parts&... parts) {
  constexpr std::size_t length = (detail::Length<Parts>::value + ... + 0);
  Text<length + 1> out;
  std::size_t at = 0;
  ((std::copy_n(detail::chars_of(parts), detail::Length<Parts>::value, out.chars + at),
    at += detail::Length<Parts>::value),
   ...);
  return out;
}

// An enumerator's value in decimal, e.g. "3" for PayoutKind::kCardPayout.
template <auto kValue>
constexpr auto number() {
  constexpr auto value = detail::value_of(kValue);
  static_assert(value >= 0, "stored enum values are not negative");
  constexpr std::size_t digits = [] {
    std::size_t n = 1;
    for (auto rest = value / 10; rest > 0; rest /= 10) ++n;
    return n;
  }();
  Text<digits + 1> out;
  auto rest = value;
  for (std::size_t i = digits; i > 0; --i) {
    out.chars[i - 1] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  return out;
}

// Enumerators' values separated by ", ", e.g. "0, 3": the inside of an IN list.
template <auto kFirst, auto... kRest>
constexpr auto list() {
  return concat(number<kFirst>(), concat(", ", number<kRest>())...);
}

// The builder's own checks, at compile time.
namespace detail {
enum class Probe : unsigned char { kZero = 0, kSeven = 7, kTwelve = 12, kLast = 255 };
static_assert(number<Probe::kZero>().view() == "0" && number<Probe::kLast>().view() == "255");
static_assert(concat("a = ", number<Probe::kTwelve>(), ";").view() == "a = 12;");
static_assert(list<Probe::kSeven>().view() == "7");
static_assert(list<Probe::kZero, Probe::kTwelve, Probe::kLast>().view() == "0, 12, 255");
}  // namespace detail

}  // namespace payoutd::store::sql
