#include "core/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>

namespace payoutd {
namespace {

constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// ---------------------------------------------------------------------------------------------
// Currency.

TEST(Currency, KnownTable) {
  const struct {
    const char* code;
    int exponent;
  } expected[] = {{"RUB", 2}, {"EUR", 2}, {"USD", 2}, {"KZT", 2}, {"GBP", 2},
                  {"CAD", 2}, {"JPY", 0}, {"KWD", 3}, {"BHD", 3}, {"KRW", 0}};
  for (const auto& e : expected) {
    const std::optional<Currency> c = Currency::from_code(e.code);
    ASSERT_TRUE(c.has_value()) << e.code;
    EXPECT_EQ(c->code(), e.code);
    EXPECT_EQ(c->exponent(), e.exponent) << e.code;
  }
}

TEST(Currency, UnknownOrMalformedCodes) {
  for (const char* code :
       {"", "R", "RU", "RUBB", "rub", "Rub", " RUB", "RUB ", "XXX", "XTS", "ZZZ", "643", "R\0B"}) {
    EXPECT_FALSE(Currency::from_code(code).has_value()) << code;
  }
  EXPECT_FALSE(Currency::from_code(std::string_view("RUB\0", 4)).has_value());
}

TEST(Currency, DefaultIsRub) {
  const Currency c;
  EXPECT_EQ(c.code(), "RUB");
  EXPECT_EQ(c.exponent(), 2);
  EXPECT_EQ(c, *Currency::from_code("RUB"));
  const Amount a;
  EXPECT_EQ(a.minor, 0);
  EXPECT_EQ(a.currency, c);
}

TEST(Currency, Equality) {
  EXPECT_EQ(*Currency::from_code("USD"), *Currency::from_code("USD"));
  EXPECT_NE(*Currency::from_code("USD"), *Currency::from_code("EUR"));
  EXPECT_NE(*Currency::from_code("RUB"), *Currency::from_code("KZT"));
  EXPECT_EQ((Amount{5, *Currency::from_code("JPY")}), (Amount{5, *Currency::from_code("JPY")}));
  EXPECT_NE((Amount{5, *Currency::from_code("JPY")}), (Amount{5, *Currency::from_code("RUB")}));
}

TEST(Currency, CodeOutlivesTheCurrency) {
  std::string_view code;
  {
    const Currency c = *Currency::from_code("KWD");
    code = c.code();
  }
  EXPECT_EQ(code, "KWD");
}

// ---------------------------------------------------------------------------------------------
// parse_decimal.

struct Accepted {
  std::string_view text;
  int exponent;
  std::int64_t minor;
};

void PrintTo(const Accepted& a, std::ostream* os) { *os << a.text << " @" << a.exponent; }

class DecimalAccepts : public testing::TestWithParam<Accepted> {};

TEST_P(DecimalAccepts, ToMinorUnits) {
  const Accepted& a = GetParam();
  const DecimalParse p = parse_decimal(a.text, a.exponent);
  EXPECT_EQ(p.error, DecimalError::kNone) << describe(p.error);
  EXPECT_EQ(p.minor, a.minor);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, DecimalAccepts,
    testing::Values(Accepted{"100", 2, 10000}, Accepted{"100.5", 2, 10050},
                    Accepted{"100.50", 2, 10050}, Accepted{"-3.25", 2, -325},
                    Accepted{"0.00", 2, 0}, Accepted{"0", 2, 0}, Accepted{"0.0", 2, 0},
                    Accepted{"-0", 2, 0}, Accepted{"-0.00", 2, 0}, Accepted{"0.01", 2, 1},
                    Accepted{"0.1", 2, 10}, Accepted{"-0.05", 2, -5}, Accepted{"9.63", 2, 963},
                    Accepted{"1", 0, 1}, Accepted{"7", 0, 7}, Accepted{"-7", 0, -7},
                    Accepted{"1000", 0, 1000}, Accepted{"1.234", 3, 1234}, Accepted{"1.2", 3, 1200},
                    Accepted{"1", 3, 1000}, Accepted{"0.001", 3, 1}, Accepted{"10.00", 2, 1000},
                    Accepted{"0.000000000000000001", 18, 1}));

INSTANTIATE_TEST_SUITE_P(Bounds, DecimalAccepts,
                         testing::Values(Accepted{"10000000000000", 2, kAmountMinorMax},
                                         Accepted{"10000000000000.00", 2, kAmountMinorMax},
                                         Accepted{"-10000000000000.00", 2, -kAmountMinorMax},
                                         Accepted{"9999999999999.99", 2, kAmountMinorMax - 1},
                                         Accepted{"1000000000000000", 0, kAmountMinorMax},
                                         Accepted{"-1000000000000000", 0, -kAmountMinorMax},
                                         Accepted{"1000000000000.000", 3, kAmountMinorMax},
                                         Accepted{"0.001", 18, 1'000'000'000'000'000},
                                         Accepted{"0.000000000000000000", 18, 0}));

struct Rejected {
  std::string text;
  int exponent;
  DecimalError error;
};

void PrintTo(const Rejected& r, std::ostream* os) {
  *os << testing::PrintToString(r.text) << " @" << r.exponent;
}

class DecimalRejects : public testing::TestWithParam<Rejected> {};

TEST_P(DecimalRejects, WithError) {
  const Rejected& r = GetParam();
  const DecimalParse p = parse_decimal(r.text, r.exponent);
  EXPECT_EQ(p.error, r.error) << "got: " << describe(p.error);
  EXPECT_EQ(p.minor, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, DecimalRejects,
    testing::Values(
        Rejected{"", 2, DecimalError::kEmpty}, Rejected{"-", 2, DecimalError::kSyntax},
        Rejected{"+1", 2, DecimalError::kSyntax}, Rejected{"1.", 2, DecimalError::kSyntax},
        Rejected{".5", 2, DecimalError::kSyntax}, Rejected{"-.5", 2, DecimalError::kSyntax},
        Rejected{"01", 2, DecimalError::kSyntax}, Rejected{"00", 2, DecimalError::kSyntax},
        Rejected{"-01.5", 2, DecimalError::kSyntax}, Rejected{"00.5", 2, DecimalError::kSyntax},
        Rejected{" 1", 2, DecimalError::kSyntax}, Rejected{"1 ", 2, DecimalError::kSyntax},
        Rejected{"1,5", 2, DecimalError::kSyntax}, Rejected{"1.5.0", 2, DecimalError::kSyntax},
        Rejected{"--1", 2, DecimalError::kSyntax}, Rejected{"1-", 2, DecimalError::kSyntax},
        Rejected{"0x10", 2, DecimalError::kSyntax}, Rejected{"1_000", 2, DecimalError::kSyntax},
        Rejected{"NaN", 2, DecimalError::kSyntax}, Rejected{"Infinity", 2, DecimalError::kSyntax},
        Rejected{"inf", 2, DecimalError::kSyntax}, Rejected{"\"1\"", 2, DecimalError::kSyntax},
        Rejected{"abc", 2, DecimalError::kSyntax}, Rejected{"1a", 2, DecimalError::kSyntax},
        Rejected{std::string("1\0", 2), 2, DecimalError::kSyntax},
        Rejected{"\xD9\xA1", 2, DecimalError::kSyntax},  // ARABIC-INDIC DIGIT ONE
        Rejected{"1e", 2, DecimalError::kSyntax}, Rejected{"1e+", 2, DecimalError::kSyntax},
        Rejected{"1e2x", 2, DecimalError::kSyntax}, Rejected{"e2", 2, DecimalError::kSyntax},
        Rejected{"1.e2", 2, DecimalError::kSyntax}, Rejected{"01e2", 2, DecimalError::kSyntax}));

INSTANTIATE_TEST_SUITE_P(
    Exponent, DecimalRejects,
    testing::Values(
        Rejected{"1e2", 2, DecimalError::kExponent}, Rejected{"1E2", 2, DecimalError::kExponent},
        Rejected{"1E-2", 2, DecimalError::kExponent}, Rejected{"1e+2", 2, DecimalError::kExponent},
        Rejected{"1.5e3", 2, DecimalError::kExponent},
        Rejected{"-2.50E-1", 2, DecimalError::kExponent},
        Rejected{"0e0", 0, DecimalError::kExponent}, Rejected{"1e400", 2, DecimalError::kExponent},
        Rejected{"1.005e2", 2, DecimalError::kExponent}));  // exponent comes first

INSTANTIATE_TEST_SUITE_P(
    FractionDigits, DecimalRejects,
    testing::Values(Rejected{"1.005", 2, DecimalError::kTooManyFractionDigits},  // RUB
                    Rejected{"1.000", 2, DecimalError::kTooManyFractionDigits},  // never rounds
                    Rejected{"0.000", 2, DecimalError::kTooManyFractionDigits},
                    Rejected{"-3.251", 2, DecimalError::kTooManyFractionDigits},
                    Rejected{"1.0", 0, DecimalError::kTooManyFractionDigits},  // JPY
                    Rejected{"0.5", 0, DecimalError::kTooManyFractionDigits},
                    Rejected{"1.2345", 3, DecimalError::kTooManyFractionDigits},  // KWD
                    Rejected{"0." + std::string(400, '0'), 2, DecimalError::kTooManyFractionDigits},
                    Rejected{"0." + std::string(400, '0'), 18,
                             DecimalError::kTooManyFractionDigits},
                    Rejected{std::string(400, '9') + ".999", 2,  // fraction digits come first
                             DecimalError::kTooManyFractionDigits}));

INSTANTIATE_TEST_SUITE_P(
    TooLarge, DecimalRejects,
    testing::Values(Rejected{"10000000000000.01", 2, DecimalError::kTooLarge},
                    Rejected{"-10000000000000.01", 2, DecimalError::kTooLarge},
                    Rejected{"10000000000001", 2, DecimalError::kTooLarge},
                    Rejected{"1000000000000001", 0, DecimalError::kTooLarge},
                    Rejected{"1000000000000000.1", 1, DecimalError::kTooLarge},
                    Rejected{"1000000000000.001", 3, DecimalError::kTooLarge},
                    Rejected{"9223372036854775807", 0, DecimalError::kTooLarge},
                    Rejected{"9223372036854775808", 0, DecimalError::kTooLarge},
                    Rejected{"18446744073709551616", 0, DecimalError::kTooLarge},  // 2^64
                    Rejected{"92233720368547758.08", 2, DecimalError::kTooLarge},
                    Rejected{"1", kExponentMax, DecimalError::kTooLarge},
                    Rejected{std::string(400, '9'), 2, DecimalError::kTooLarge},
                    Rejected{"1" + std::string(399, '0'), 0, DecimalError::kTooLarge},
                    Rejected{"-" + std::string(400, '9') + ".99", 2, DecimalError::kTooLarge},
                    Rejected{std::string(100000, '7'), 2, DecimalError::kTooLarge}));

TEST(Decimal, RubRejectsThreeFractionDigits) {
  const int rub = Currency::from_code("RUB")->exponent();
  EXPECT_EQ(parse_decimal("100.50", rub).minor, 10050);
  EXPECT_EQ(parse_decimal("100.505", rub).error, DecimalError::kTooManyFractionDigits);
  EXPECT_EQ(parse_decimal("100.500", rub).error, DecimalError::kTooManyFractionDigits);
}

TEST(Decimal, JpyHasNoFractionDigits) {
  const int jpy = Currency::from_code("JPY")->exponent();
  EXPECT_EQ(parse_decimal("100", jpy).minor, 100);
  EXPECT_EQ(parse_decimal("100.0", jpy).error, DecimalError::kTooManyFractionDigits);
  EXPECT_EQ(format_decimal(100, jpy), "100");
}

TEST(Decimal, KwdHasThreeFractionDigits) {
  const int kwd = Currency::from_code("KWD")->exponent();
  EXPECT_EQ(parse_decimal("1.005", kwd).minor, 1005);
  EXPECT_EQ(format_decimal(1005, kwd), "1.005");
}

TEST(Decimal, Describe) {
  EXPECT_EQ(describe(DecimalError::kTooManyFractionDigits),
            "has more fraction digits than the currency allows");
  for (const DecimalError e :
       {DecimalError::kNone, DecimalError::kEmpty, DecimalError::kSyntax, DecimalError::kExponent,
        DecimalError::kTooManyFractionDigits, DecimalError::kTooLarge}) {
    EXPECT_FALSE(describe(e).empty());
  }
  EXPECT_NE(describe(DecimalError::kSyntax), describe(DecimalError::kExponent));
  EXPECT_NE(describe(DecimalError::kTooLarge), describe(DecimalError::kEmpty));
}

// ---------------------------------------------------------------------------------------------
// format_decimal / append_decimal.

TEST(FormatDecimal, Examples) {
  EXPECT_EQ(format_decimal(10050, 2), "100.50");
  EXPECT_EQ(format_decimal(-5, 2), "-0.05");
  EXPECT_EQ(format_decimal(0, 2), "0.00");
  EXPECT_EQ(format_decimal(7, 0), "7");
  EXPECT_EQ(format_decimal(0, 0), "0");
  EXPECT_EQ(format_decimal(-7, 0), "-7");
  EXPECT_EQ(format_decimal(1, 2), "0.01");
  EXPECT_EQ(format_decimal(10, 2), "0.10");
  EXPECT_EQ(format_decimal(100, 2), "1.00");
  EXPECT_EQ(format_decimal(-100, 2), "-1.00");
  EXPECT_EQ(format_decimal(-325, 2), "-3.25");
  EXPECT_EQ(format_decimal(1, 3), "0.001");
  EXPECT_EQ(format_decimal(-1234, 3), "-1.234");
  EXPECT_EQ(format_decimal(kAmountMinorMax, 2), "10000000000000.00");
}

TEST(FormatDecimal, Int64Extremes) {
  EXPECT_EQ(format_decimal(kInt64Min, 2), "-92233720368547758.08");
  EXPECT_EQ(format_decimal(kInt64Max, 2), "92233720368547758.07");
  EXPECT_EQ(format_decimal(kInt64Min, 0), "-9223372036854775808");
  EXPECT_EQ(format_decimal(kInt64Max, 0), "9223372036854775807");
  EXPECT_EQ(format_decimal(kInt64Min, 18), "-9.223372036854775808");
  EXPECT_EQ(format_decimal(kInt64Min, 3), "-9223372036854775.808");
  EXPECT_EQ(format_decimal(kInt64Min + 1, 2), "-92233720368547758.07");
}

TEST(FormatDecimal, LargeExponents) {
  EXPECT_EQ(format_decimal(1, 18), "0.000000000000000001");
  EXPECT_EQ(format_decimal(-1, 18), "-0.000000000000000001");
  EXPECT_EQ(format_decimal(0, 18), "0.000000000000000000");
  EXPECT_EQ(format_decimal(kInt64Max, 18), "9.223372036854775807");
  EXPECT_EQ(format_decimal(123456789, 9), "0.123456789");
  EXPECT_EQ(format_decimal(1234567890, 9), "1.234567890");
}

TEST(AppendDecimal, AppendsWithoutClearing) {
  std::string out = "value=";
  append_decimal(out, 10050, 2);
  out += ';';
  append_decimal(out, -1, 0);
  EXPECT_EQ(out, "value=100.50;-1");
}

// ---------------------------------------------------------------------------------------------
// Round trips.

void expect_round_trip(std::int64_t minor, int exponent) {
  const std::string text = format_decimal(minor, exponent);
  const DecimalParse p = parse_decimal(text, exponent);
  ASSERT_EQ(p.error, DecimalError::kNone) << text << " @" << exponent << ": " << describe(p.error);
  EXPECT_EQ(p.minor, minor) << text << " @" << exponent;
}

TEST(DecimalRoundTrip, Edges) {
  for (int exponent = 0; exponent <= kExponentMax; ++exponent) {
    for (const std::int64_t minor :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{9}, std::int64_t{10},
          std::int64_t{99}, std::int64_t{100}, std::int64_t{101}, std::int64_t{-101},
          std::int64_t{12345}, kAmountMinorMax, -kAmountMinorMax, kAmountMinorMax - 1,
          -kAmountMinorMax + 1}) {
      expect_round_trip(minor, exponent);
    }
  }
}

TEST(DecimalRoundTrip, ManyRandomValues) {
  std::mt19937_64 rng(4217);
  for (int i = 0; i < 200000; ++i) {
    const int exponent = static_cast<int>(rng() % 5);  // all ISO 4217 exponents
    // Spread magnitudes over every number of digits, not just the largest.
    const std::uint64_t digits = 1 + rng() % 16;
    std::uint64_t bound = 1;
    for (std::uint64_t d = 0; d < digits; ++d) bound *= 10;
    auto magnitude = static_cast<std::int64_t>(rng() % bound);
    if (magnitude > kAmountMinorMax) magnitude = kAmountMinorMax;
    expect_round_trip(rng() % 2 == 0 ? magnitude : -magnitude, exponent);
  }
}

TEST(DecimalRoundTrip, EveryValueBelowTenThousand) {
  for (int exponent = 0; exponent <= 4; ++exponent) {
    for (std::int64_t minor = -10000; minor <= 10000; ++minor) expect_round_trip(minor, exponent);
  }
}

TEST(DecimalRoundTrip, ParseThenFormatIsCanonical) {
  // Shorter fractions come back padded to the currency's digits; "-0" loses its sign.
  EXPECT_EQ(format_decimal(parse_decimal("100.5", 2).minor, 2), "100.50");
  EXPECT_EQ(format_decimal(parse_decimal("100", 2).minor, 2), "100.00");
  EXPECT_EQ(format_decimal(parse_decimal("-0.00", 2).minor, 2), "0.00");
  EXPECT_EQ(format_decimal(parse_decimal("9.63", 2).minor, 2), "9.63");
}

}  // namespace
}  // namespace payoutd
