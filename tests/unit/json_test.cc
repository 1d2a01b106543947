#include "core/json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace payoutd::json {
namespace {

using namespace std::string_literals;

constexpr std::string_view kPayoutBody =
    R"({"fromFunderId":"bonus-funder","toClientId":"sjrpngawef8770553957",)"
    R"("transactionAmount":{"value":100.50,"currency":"RUB"}})";

Value parse_ok(std::string_view text, const Limits& limits = {}) {
  ParseResult result = parse(text, limits);
  EXPECT_TRUE(result.value.has_value())
      << "input: " << text << "\nerror at " << result.error.offset << ": " << result.error.message;
  EXPECT_TRUE(result.error.message.empty());
  return result.value ? std::move(*result.value) : Value();
}

// The compact form of `text` written back from its parse.
std::string reparsed(std::string_view text) { return to_string(parse_ok(text)); }

// ---------------------------------------------------------------------------------------------
// Accepted documents.

TEST(JsonParse, PayoutBody) {
  const Value v = parse_ok(kPayoutBody);
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 3u);
  EXPECT_EQ(v.as_object()[0].first, "fromFunderId");
  EXPECT_EQ(v.find("fromFunderId")->as_string(), "bonus-funder");
  EXPECT_EQ(v.find("toClientId")->as_string(), "sjrpngawef8770553957");
  const Value* amount = v.find("transactionAmount");
  ASSERT_NE(amount, nullptr);
  ASSERT_TRUE(amount->is_object());
  ASSERT_TRUE(amount->find("value")->is_number());
  EXPECT_EQ(amount->find("value")->number_text(), "100.50");
  EXPECT_EQ(amount->find("currency")->as_string(), "RUB");
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(amount->find("value")->find("x"), nullptr);  // not an object
}

TEST(JsonParse, Scalars) {
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_TRUE(parse_ok("true").as_bool());
  EXPECT_FALSE(parse_ok("false").as_bool());
  EXPECT_TRUE(parse_ok("false").is_bool());
  EXPECT_EQ(parse_ok("0").number_text(), "0");
  EXPECT_EQ(parse_ok(R"("")").as_string(), "");
  EXPECT_EQ(parse_ok(R"("abc")").as_string(), "abc");
  EXPECT_TRUE(parse_ok("[]").as_array().empty());
  EXPECT_TRUE(parse_ok("{}").as_object().empty());
}

TEST(JsonParse, KindsAreDistinct) {
  const Value number = parse_ok("1");
  const Value string = parse_ok(R"("1")");
  EXPECT_EQ(number.kind(), Value::Kind::kNumber);
  EXPECT_EQ(string.kind(), Value::Kind::kString);
  EXPECT_FALSE(number == string);
  EXPECT_EQ(parse_ok("[]").kind(), Value::Kind::kArray);
  EXPECT_EQ(parse_ok("{}").kind(), Value::Kind::kObject);
  EXPECT_EQ(parse_ok("null").kind(), Value::Kind::kNull);
  EXPECT_EQ(parse_ok("true").kind(), Value::Kind::kBool);
  EXPECT_EQ(Value().kind(), Value::Kind::kNull);
}

TEST(JsonParse, SurroundingWhitespace) {
  EXPECT_EQ(parse_ok(" \t\r\n1 \t\r\n").number_text(), "1");
  const Value v = parse_ok(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } ");
  EXPECT_EQ(to_string(v), R"({"a":[1,2],"b":{}})");
}

TEST(JsonParse, ObjectKeepsDocumentOrder) {
  const Value v = parse_ok(R"({"z":1,"a":2,"m":3})");
  const Value::Object& members = v.as_object();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].first, "z");
  EXPECT_EQ(members[1].first, "a");
  EXPECT_EQ(members[2].first, "m");
}

TEST(JsonParse, Nested) {
  const Value v = parse_ok(R"([1,[2,[3,{"a":[{}]}]],"x"])");
  ASSERT_EQ(v.as_array().size(), 3u);
  const Value& inner = v.as_array()[1].as_array()[1];
  EXPECT_EQ(inner.as_array()[0].number_text(), "3");
  EXPECT_TRUE(inner.as_array()[1].find("a")->as_array()[0].is_object());
  EXPECT_EQ(v.as_array()[2].as_string(), "x");
}

TEST(JsonParse, NumberLiteralsAreKeptVerbatim) {
  for (const char* literal :
       {"9.63", "100.50", "100.5", "-0", "0", "-0.0", "1e400", "1E+2", "1e-7", "-1.5E-300",
        "0.1000000000000000055511151231257827", "123456789012345678901234567890",
        "0.000000000000000000001", "2.50"}) {
    const Value v = parse_ok(literal);
    ASSERT_TRUE(v.is_number()) << literal;
    EXPECT_EQ(v.number_text(), literal);
    EXPECT_EQ(to_string(v), literal);
  }
}

TEST(JsonParse, NumberInsideContainersKeepsText) {
  const Value v = parse_ok(R"({"value":9.63,"list":[1e400,-0,0.10]})");
  EXPECT_EQ(v.find("value")->number_text(), "9.63");
  EXPECT_EQ(v.find("list")->as_array()[0].number_text(), "1e400");
  EXPECT_EQ(v.find("list")->as_array()[1].number_text(), "-0");
  EXPECT_EQ(v.find("list")->as_array()[2].number_text(), "0.10");
}

TEST(JsonParse, SimpleEscapes) {
  EXPECT_EQ(parse_ok(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("a\nb")").as_string(), "a\nb");
}

TEST(JsonParse, UnicodeEscapes) {
  EXPECT_EQ(parse_ok(R"("\u0041")").as_string(), "A");
  EXPECT_EQ(parse_ok(R"("\u00e9\u00E9")").as_string(), "\xC3\xA9\xC3\xA9");  // é é
  EXPECT_EQ(parse_ok(R"("\u20AC")").as_string(), "\xE2\x82\xAC");            // €
  EXPECT_EQ(parse_ok(R"("\u041f")").as_string(), "\xD0\x9F");                // П
  EXPECT_EQ(parse_ok(R"("\uFFFF")").as_string(), "\xEF\xBF\xBF");
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string(), "\0"s);
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string().size(), 1u);
}

TEST(JsonParse, SurrogatePairDecodesToOneCodePoint) {
  EXPECT_EQ(parse_ok(R"("\uD83D\uDE00")").as_string(), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(parse_ok(R"("\ud800\udc00")").as_string(), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(parse_ok(R"("\uDBFF\uDFFF")").as_string(), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(parse_ok(R"("x\uD83D\uDE00y")").as_string(), "x\xF0\x9F\x98\x80y");
}

TEST(JsonParse, RawUtf8PassesThrough) {
  const std::string text =
      "\"\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE2\x82\xAC "
      "\xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF\"";
  EXPECT_EQ(parse_ok(text).as_string(), text.substr(1, text.size() - 2));
  // Mixed with escapes (the slow path) too.
  EXPECT_EQ(parse_ok("\"\\n\xD0\x9F\xE2\x82\xAC\"").as_string(), "\n\xD0\x9F\xE2\x82\xAC");
}

TEST(JsonParse, DelIsNotAControlCharacter) {
  EXPECT_EQ(parse_ok("\"\x7F~\"").as_string(), "\x7F~");
}

TEST(JsonParse, EscapedKeysAreUnescaped) {
  const Value v = parse_ok(R"({"a\u0062":1,"\n":2})");
  EXPECT_NE(v.find("ab"), nullptr);
  EXPECT_NE(v.find("\n"), nullptr);
}

TEST(JsonParse, ResultDoesNotReferToInput) {
  std::string text = R"({"key":"value","n":12,"e\u0073c":"\u0041"})";
  const Value v = parse_ok(text);
  std::fill(text.begin(), text.end(), 'x');
  EXPECT_EQ(v.find("key")->as_string(), "value");
  EXPECT_EQ(v.find("n")->number_text(), "12");
  EXPECT_EQ(v.find("esc")->as_string(), "A");
}

TEST(JsonParse, EmbeddedNulAfterValueIsTrailingGarbage) {
  const ParseResult r = parse("1\0"s);
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error.offset, 1u);
}

// ---------------------------------------------------------------------------------------------
// Rejected documents: every rule with its offset and message.

struct Rejection {
  std::string input;
  std::size_t offset;
  std::string message;
};

void PrintTo(const Rejection& r, std::ostream* os) { *os << testing::PrintToString(r.input); }

class JsonReject : public testing::TestWithParam<Rejection> {};

TEST_P(JsonReject, WithOffsetAndMessage) {
  const Rejection& expected = GetParam();
  const ParseResult result = parse(expected.input);
  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error.message, expected.message);
  EXPECT_EQ(result.error.offset, expected.offset);
}

INSTANTIATE_TEST_SUITE_P(
    Structure, JsonReject,
    testing::Values(
        Rejection{"", 0, "unexpected end of input"},
        Rejection{" \t\r\n", 4, "unexpected end of input"},
        Rejection{"1 2", 2, "trailing characters"}, Rejection{"{}x", 2, "trailing characters"},
        Rejection{"[]]", 2, "trailing characters"},
        Rejection{"null null", 5, "trailing characters"},
        Rejection{"// comment\n1", 0, "unexpected character"},
        Rejection{"/* c */ 1", 0, "unexpected character"},
        Rejection{"1 // comment", 2, "trailing characters"}, Rejection{"[1,]", 2, "trailing comma"},
        Rejection{"[1 , ]", 3, "trailing comma"}, Rejection{R"({"a":1,})", 6, "trailing comma"},
        Rejection{"[,1]", 1, "unexpected character"},
        Rejection{"[1,,2]", 3, "unexpected character"}, Rejection{"{,}", 1, "expected string key"},
        Rejection{"['a']", 1, "unexpected character"},
        Rejection{"{'a':1}", 1, "expected string key"},
        Rejection{"{a:1}", 1, "expected string key"}, Rejection{"{1:2}", 1, "expected string key"},
        Rejection{R"({"a" 1})", 5, "expected ':'"}, Rejection{R"({"a")", 4, "expected ':'"},
        Rejection{R"({"a"=1})", 4, "expected ':'"}, Rejection{"[1 2]", 3, "expected ',' or ']'"},
        Rejection{R"({"a":1 "b":2})", 7, "expected ',' or '}'"},
        Rejection{R"({"a":1])", 6, "expected ',' or '}'"},
        Rejection{"[1}", 2, "expected ',' or ']'"}, Rejection{"[", 1, "unexpected end of input"},
        Rejection{"[1", 2, "unexpected end of input"},
        Rejection{"[1,", 3, "unexpected end of input"},
        Rejection{"{", 1, "unexpected end of input"},
        Rejection{R"({"a":)", 5, "unexpected end of input"},
        Rejection{R"({"a":1)", 6, "unexpected end of input"},
        Rejection{"\xEF\xBB\xBF{}", 0, "unexpected character"},  // BOM
        Rejection{"\f1", 0, "unexpected character"},             // not JSON whitespace
        Rejection{"\v1", 0, "unexpected character"},
        Rejection{"\xC2\xA0"
                  "1",
                  0, "unexpected character"},  // NBSP
        Rejection{"\0"s, 0, "unexpected character"}, Rejection{"}", 0, "unexpected character"},
        Rejection{"]", 0, "unexpected character"}, Rejection{":", 0, "unexpected character"}));

INSTANTIATE_TEST_SUITE_P(Literals, JsonReject,
                         testing::Values(Rejection{"NaN", 0, "unexpected character"},
                                         Rejection{"Infinity", 0, "unexpected character"},
                                         Rejection{"-Infinity", 1, "invalid number"},
                                         Rejection{"undefined", 0, "unexpected character"},
                                         Rejection{"tru", 0, "invalid literal"},
                                         Rejection{"True", 0, "unexpected character"},
                                         Rejection{"nul", 0, "invalid literal"},
                                         Rejection{"nulL", 0, "invalid literal"},
                                         Rejection{"falsy", 0, "invalid literal"},
                                         Rejection{"truex", 4, "trailing characters"},
                                         Rejection{"[nullx]", 5, "expected ',' or ']'"}));

INSTANTIATE_TEST_SUITE_P(
    Numbers, JsonReject,
    testing::Values(
        Rejection{"01", 0, "leading zero"}, Rejection{"00", 0, "leading zero"},
        Rejection{"-01", 1, "leading zero"}, Rejection{"[007]", 1, "leading zero"},
        Rejection{"1.", 2, "invalid number"}, Rejection{"1.e5", 2, "invalid number"},
        Rejection{"[1.]", 3, "invalid number"}, Rejection{".5", 0, "unexpected character"},
        Rejection{"+1", 0, "unexpected character"}, Rejection{"-", 1, "invalid number"},
        Rejection{"-x", 1, "invalid number"}, Rejection{"- 1", 1, "invalid number"},
        Rejection{"--1", 1, "invalid number"}, Rejection{"1e", 2, "invalid number"},
        Rejection{"1e+", 3, "invalid number"}, Rejection{"1E-x", 3, "invalid number"},
        Rejection{"1.5.3", 3, "trailing characters"}, Rejection{"0x10", 1, "trailing characters"},
        Rejection{"1,000", 1, "trailing characters"}, Rejection{"1_000", 1, "trailing characters"},
        Rejection{"1e5e5", 3, "trailing characters"}));

INSTANTIATE_TEST_SUITE_P(Strings, JsonReject,
                         testing::Values(Rejection{R"("abc)", 4, "unterminated string"},
                                         Rejection{R"(")", 1, "unterminated string"},
                                         Rejection{R"("abc\)", 5, "unterminated string"},
                                         Rejection{"\"a\\n\\", 5, "unterminated string"},
                                         Rejection{"\"a\x01\"", 2, "control character in string"},
                                         Rejection{"\"\x1F\"", 1, "control character in string"},
                                         Rejection{"\"a\nb\"", 2, "control character in string"},
                                         Rejection{"\"a\tb\"", 2, "control character in string"},
                                         Rejection{"\"\\n\x00\""s, 3,
                                                   "control character in string"},  // slow path
                                         Rejection{R"("\x41")", 1, "invalid escape"},
                                         Rejection{R"("\a")", 1, "invalid escape"},
                                         Rejection{R"("\')", 1, "invalid escape"},
                                         Rejection{R"("\U0041")", 1, "invalid escape"},
                                         Rejection{R"("ab\0")", 3, "invalid escape"},
                                         Rejection{R"("\u12")", 1, "invalid unicode escape"},
                                         Rejection{R"("\u12G4")", 1, "invalid unicode escape"},
                                         Rejection{R"("\u-123")", 1, "invalid unicode escape"},
                                         Rejection{R"("\u)", 1, "invalid unicode escape"},
                                         Rejection{"'single'", 0, "unexpected character"}));

INSTANTIATE_TEST_SUITE_P(
    Surrogates, JsonReject,
    testing::Values(Rejection{R"("\uD800")", 1, "unpaired surrogate"},
                    Rejection{R"("\uDBFF")", 1, "unpaired surrogate"},
                    Rejection{R"("\uDC00")", 1, "unpaired surrogate"},
                    Rejection{R"("\uDFFF")", 1, "unpaired surrogate"},
                    Rejection{R"("x\uDE00\uD83D")", 2, "unpaired surrogate"},    // reversed
                    Rejection{R"("\uD800\uD800")", 1, "unpaired surrogate"},     // high, high
                    Rejection{R"("\uD800\u0041")", 1, "unpaired surrogate"},     // high, BMP
                    Rejection{R"("\uD800A")", 1, "unpaired surrogate"},          // high, raw char
                    Rejection{R"("\uD800\n")", 1, "unpaired surrogate"},         // high, escape
                    Rejection{R"("\uD800\uDC0")", 7, "invalid unicode escape"},  // short low
                    Rejection{R"("\uD800\uDCZZ")", 7, "invalid unicode escape"},
                    Rejection{R"("\uD800\u)", 1, "unpaired surrogate"},
                    Rejection{"\"\\uD800", 1, "unpaired surrogate"}));

INSTANTIATE_TEST_SUITE_P(
    InvalidUtf8, JsonReject,
    testing::Values(Rejection{"\"\x80\"", 1, "invalid UTF-8"},  // lone continuation byte
                    Rejection{"\"\xBF\"", 1, "invalid UTF-8"},
                    Rejection{"\"\xC0\xAF\"", 1, "invalid UTF-8"},          // overlong '/'
                    Rejection{"\"\xC1\xBF\"", 1, "invalid UTF-8"},          // overlong
                    Rejection{"\"\xE0\x80\xAF\"", 1, "invalid UTF-8"},      // overlong 3-byte
                    Rejection{"\"\xE0\x9F\xBF\"", 1, "invalid UTF-8"},      // overlong U+07FF
                    Rejection{"\"\xF0\x80\x80\xAF\"", 1, "invalid UTF-8"},  // overlong 4-byte
                    Rejection{"\"\xF0\x8F\xBF\xBF\"", 1, "invalid UTF-8"},  // overlong U+FFFF
                    Rejection{"\"\xED\xA0\x80\"", 1, "invalid UTF-8"},      // U+D800 encoded
                    Rejection{"\"\xED\xBF\xBF\"", 1, "invalid UTF-8"},      // U+DFFF encoded
                    Rejection{"\"\xED\xA0\xBD\xED\xB8\x80\"", 1, "invalid UTF-8"},  // CESU-8 pair
                    Rejection{"\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8"},          // U+110000
                    Rejection{"\"\xF5\x80\x80\x80\"", 1, "invalid UTF-8"},
                    Rejection{"\"\xF8\x88\x80\x80\x80\"", 1, "invalid UTF-8"},  // 5-byte form
                    Rejection{"\"\xFE\"", 1, "invalid UTF-8"},
                    Rejection{"\"\xFF\"", 1, "invalid UTF-8"},
                    Rejection{"\"\xC3\"", 1, "invalid UTF-8"},  // truncated before quote
                    Rejection{"\"\xC3", 1, "invalid UTF-8"},    // truncated at end of input
                    Rejection{"\"\xE2\x82\"", 1, "invalid UTF-8"},
                    Rejection{"\"\xE2\x82", 1, "invalid UTF-8"},
                    Rejection{"\"\xF0\x9F\x98\"", 1, "invalid UTF-8"},
                    Rejection{"\"ab\xC3(\"", 3, "invalid UTF-8"},      // bad continuation
                    Rejection{"\"\\n\xC0\xAF\"", 3, "invalid UTF-8"},  // slow path
                    Rejection{"{\"\xFF\":1}", 2, "invalid UTF-8"}));   // in a key

INSTANTIATE_TEST_SUITE_P(
    DuplicateKeys, JsonReject,
    testing::Values(Rejection{R"({"a":1,"a":2})", 7, R"(duplicate key "a")"},
                    Rejection{R"({"a":1,"b":2,"a":3})", 13, R"(duplicate key "a")"},
                    Rejection{R"({"a":1,"\u0061":2})", 7,
                              R"(duplicate key "a")"},  // same after unescape
                    Rejection{R"({"\u0061":1,"a":2})", 12, R"(duplicate key "a")"},
                    Rejection{R"({"":1,"":2})", 6, R"(duplicate key "")"},
                    Rejection{R"({"x":{"a":1,"a":2}})", 12, R"(duplicate key "a")"},
                    Rejection{R"({"q\"\n":1,"q\"\n":2})", 11, R"(duplicate key "q\"\u000a")"}));

TEST(JsonReject, ErrorLeavesNoValue) {
  const ParseResult r = parse("[1,2");
  EXPECT_FALSE(r.value.has_value());
  EXPECT_FALSE(r.error.message.empty());
}

TEST(JsonReject, EveryTruncationOfAValidDocumentFails) {
  const std::string text =
      R"({"a":[1,-2.5e+3,true,false,null,"s\u00e9\uD83D\uDE00\n"],"b":{"c":{}},"d":[]})";
  parse_ok(text);
  for (std::size_t n = 0; n < text.size(); ++n) {
    const ParseResult r = parse(std::string_view(text).substr(0, n));
    EXPECT_FALSE(r.value.has_value()) << "prefix of " << n << " bytes";
    EXPECT_LE(r.error.offset, n);
  }
}

TEST(JsonReject, TruncatedInputDoesNotReadPastTheView) {
  const std::string backing = R"(["\u0041BC", 12345, true])";
  for (std::size_t n = 0; n < backing.size(); ++n) {
    // Each prefix gets its own heap buffer of exactly n bytes, so ASan flags any over-read.
    const auto buffer = std::make_unique<char[]>(n == 0 ? 1 : n);
    std::copy_n(backing.begin(), n, buffer.get());
    EXPECT_FALSE(parse(std::string_view(buffer.get(), n)).value.has_value()) << n;
  }
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys in large objects (the ordered-set path).

std::string object_with_keys(const std::vector<std::string>& keys) {
  std::string text = "{";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) text += ',';
    text += '"' + keys[i] + "\":" + std::to_string(i);
  }
  return text + '}';
}

TEST(JsonDuplicateKeys, LargeObjectWithDistinctKeysIsAccepted) {
  std::vector<std::string> keys;
  for (int i = 0; i < 4000; ++i) keys.push_back("key" + std::to_string(i));
  const Value v = parse_ok(object_with_keys(keys));
  ASSERT_EQ(v.as_object().size(), 4000u);
  EXPECT_EQ(v.find("key3999")->number_text(), "3999");
}

TEST(JsonDuplicateKeys, DetectedAtEveryPositionOfALargeObject) {
  for (const std::size_t first : {0u, 5u, 15u, 16u, 17u, 40u}) {
    for (const std::size_t second : {16u, 17u, 30u, 99u}) {
      if (second <= first) continue;
      std::vector<std::string> keys;
      for (int i = 0; i < 100; ++i) keys.push_back("k" + std::to_string(i));
      keys[second] = keys[first];
      const std::string text = object_with_keys(keys);
      const ParseResult r = parse(text);
      ASSERT_FALSE(r.value) << first << " " << second;
      EXPECT_EQ(r.error.message, "duplicate key \"" + keys[first] + '"');
      const std::string needle = ",\"" + keys[first] + "\":" + std::to_string(second);
      EXPECT_EQ(r.error.offset, text.find(needle) + 1);
    }
  }
}

TEST(JsonDuplicateKeys, EscapedKeysInLargeObject) {
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("k" + std::to_string(i));
  keys[20] = R"(\u006b3)";  // "k3" spelled with an escape
  EXPECT_EQ(parse(object_with_keys(keys)).error.message, R"(duplicate key "k3")");
  keys[20] = R"(k\n)";
  keys[25] = R"(k\u000a)";
  EXPECT_EQ(parse(object_with_keys(keys)).error.message, R"(duplicate key "k\u000a")");
  keys[25] = R"(k\u000b)";
  parse_ok(object_with_keys(keys));
  // An escaped key among the first, linearly scanned ones, repeated after the switch to the set.
  keys[2] = R"(\u006b\u0032)";
  keys[28] = "k2";
  const ParseResult r = parse(object_with_keys(keys));
  EXPECT_EQ(r.error.message, R"(duplicate key "k2")");
  EXPECT_EQ(r.error.offset, object_with_keys(keys).find("\"k2\""));
}

TEST(JsonDuplicateKeys, SameKeyInSiblingObjectsIsFine) {
  parse_ok(R"([{"a":1},{"a":2}])");
  parse_ok(R"({"a":{"a":{"a":1}}})");
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("k" + std::to_string(i));
  const std::string large = object_with_keys(keys);
  parse_ok("[" + large + "," + large + "," + large + "]");
  parse_ok("{\"x\":" + large + ",\"y\":" + large + "}");
}

TEST(JsonDuplicateKeys, LongKeyIsShortenedInMessage) {
  const std::string key(1000, 'k');
  const ParseResult r = parse("{\"" + key + "\":1,\"" + key + "\":2}");
  ASSERT_FALSE(r.value);
  EXPECT_EQ(r.error.message, "duplicate key \"" + std::string(40, 'k') + "...\"");
}

TEST(JsonDuplicateKeys, ShortenedKeyIsNotCutInsideACodePoint) {
  const std::string key = std::string(39, 'k') + "\xD0\x9F" + std::string(10, 'k');  // П at 39
  const ParseResult r = parse("{\"" + key + "\":1,\"" + key + "\":2}");
  EXPECT_EQ(r.error.message, "duplicate key \"" + std::string(39, 'k') + "...\"");
}

// ---------------------------------------------------------------------------------------------
// Limits.

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonLimits, DefaultDepth32IsAcceptedAnd33Rejected) {
  const Value v = parse_ok(nested_arrays(32));
  EXPECT_EQ(to_string(v), nested_arrays(32));
  const ParseResult r = parse(nested_arrays(33));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error.message, "nesting too deep");
  EXPECT_EQ(r.error.offset, 32u);
}

TEST(JsonLimits, DepthCountsObjectsToo) {
  std::string text;
  for (int i = 0; i < 32; ++i) text += R"({"a":)";
  text += "1" + std::string(32, '}');
  parse_ok(text);
  const std::string deeper = R"({"a":)" + text + "}";
  EXPECT_EQ(parse(deeper).error.message, "nesting too deep");
}

TEST(JsonLimits, CustomDepth) {
  Limits limits;
  limits.depth_max = 2;
  parse_ok("[[]]", limits);
  parse_ok(R"({"a":[1]})", limits);
  EXPECT_EQ(parse("[[[]]]", limits).error.offset, 2u);
  limits.depth_max = 0;
  parse_ok("1", limits);
  parse_ok(R"("s")", limits);
  EXPECT_EQ(parse("[]", limits).error.message, "nesting too deep");
}

TEST(JsonLimits, HundredThousandOpenBracketsAreRejectedWithoutRecursion) {
  const std::string text(100000, '[');
  const ParseResult r = parse(text);
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error.message, "nesting too deep");
  EXPECT_EQ(r.error.offset, 32u);
  EXPECT_EQ(parse(std::string(100000, '{')).error.message, "expected string key");
  EXPECT_EQ(parse(std::string(100000, '[') + std::string(100000, ']')).error.offset, 32u);
}

TEST(JsonLimits, DepthIsCappedAtTheCeilingWhateverIsAsked) {
  Limits limits;
  limits.depth_max = 1'000'000;
  parse_ok(nested_arrays(kDepthCeiling), limits);
  const ParseResult r = parse(nested_arrays(100000), limits);
  EXPECT_EQ(r.error.message, "nesting too deep");
  EXPECT_EQ(r.error.offset, kDepthCeiling);
}

TEST(JsonLimits, StringBytes) {
  Limits limits;
  limits.string_bytes_max = 4;
  EXPECT_EQ(parse_ok(R"("abcd")", limits).as_string(), "abcd");
  EXPECT_EQ(parse_ok(R"("\u0041\u0042\u0043\u0044")", limits).as_string(), "ABCD");
  EXPECT_EQ(parse_ok("\"\xF0\x9F\x98\x80\"", limits).as_string().size(), 4u);

  const ParseResult r = parse(R"(["abcde"])", limits);
  EXPECT_EQ(r.error.message, "string too long");
  EXPECT_EQ(r.error.offset, 1u);
  EXPECT_EQ(parse(R"("abc\n!")", limits).error.message, "string too long");
  EXPECT_EQ(parse(R"("\u00e9\u00e9\u00e9")", limits).error.message, "string too long");
  EXPECT_EQ(parse(R"({"abcde":1})", limits).error.message, "string too long");  // keys too
  EXPECT_EQ(parse("12345", limits).error.message, "number too long");
  parse_ok("1234", limits);
}

TEST(JsonLimits, DefaultStringBytes) {
  const std::string fits(64 * 1024, 'x');
  EXPECT_EQ(parse_ok('"' + fits + '"').as_string().size(), fits.size());
  const ParseResult r = parse("\"" + fits + "x\"");
  EXPECT_EQ(r.error.message, "string too long");
  EXPECT_EQ(r.error.offset, 0u);
  std::string escaped = "\"";
  for (int i = 0; i < 64 * 1024 + 1; ++i) escaped += "\\n";
  EXPECT_EQ(parse(escaped + '"').error.message, "string too long");
}

std::string array_of_zeros(std::size_t count) {
  std::string text = "[";
  for (std::size_t i = 0; i < count; ++i) text += i == 0 ? "0" : ",0";
  return text + "]";
}

TEST(JsonLimits, ContainerItems) {
  EXPECT_EQ(parse_ok(array_of_zeros(4096)).as_array().size(), 4096u);
  const std::string too_many = array_of_zeros(4097);
  const ParseResult r = parse(too_many);
  EXPECT_EQ(r.error.message, "too many items");
  EXPECT_EQ(r.error.offset, too_many.size() - 2);  // the 4097th "0"

  Limits limits;
  limits.container_items_max = 2;
  parse_ok(R"([1,2])", limits);
  parse_ok(R"({"a":1,"b":[3,4]})", limits);
  EXPECT_EQ(parse("[1,2,3]", limits).error.offset, 5u);
  const ParseResult object = parse(R"({"a":1,"b":2,"c":3})", limits);
  EXPECT_EQ(object.error.message, "too many items");
  EXPECT_EQ(object.error.offset, 13u);
  limits.container_items_max = 0;
  parse_ok("[]", limits);
  parse_ok("{}", limits);
  EXPECT_EQ(parse("[1]", limits).error.message, "too many items");
}

// ---------------------------------------------------------------------------------------------
// as_int64.

std::optional<std::int64_t> int64_of(std::string_view literal) {
  return parse_ok(literal).as_int64();
}

TEST(JsonAsInt64, Edges) {
  EXPECT_EQ(int64_of("0"), 0);
  EXPECT_EQ(int64_of("-0"), 0);
  EXPECT_EQ(int64_of("42"), 42);
  EXPECT_EQ(int64_of("-42"), -42);
  EXPECT_EQ(int64_of("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(int64_of("9223372036854775808"), std::nullopt);
  EXPECT_EQ(int64_of("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(int64_of("-9223372036854775809"), std::nullopt);
  EXPECT_EQ(int64_of("99999999999999999999999999"), std::nullopt);
  EXPECT_EQ(int64_of("1.0"), std::nullopt);
  EXPECT_EQ(int64_of("1e5"), std::nullopt);
  EXPECT_EQ(int64_of("1E5"), std::nullopt);
  EXPECT_EQ(int64_of("0.5"), std::nullopt);
}

TEST(JsonAsInt64, NonNumbers) {
  EXPECT_EQ(parse_ok(R"("5")").as_int64(), std::nullopt);
  EXPECT_EQ(parse_ok("true").as_int64(), std::nullopt);
  EXPECT_EQ(parse_ok("null").as_int64(), std::nullopt);
  EXPECT_EQ(parse_ok("[5]").as_int64(), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Writer.

TEST(JsonWriter, InsertsCommas) {
  std::string out;
  Writer w(out);
  w.begin_object()
      .key("a")
      .integer(1)
      .key("b")
      .begin_array()
      .integer(1)
      .string("x")
      .null()
      .boolean(true)
      .boolean(false)
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .end_array()
      .key("c")
      .begin_object()
      .key("d")
      .number_raw("100.50")
      .end_object()
      .key("e")
      .null()
      .end_object();
  EXPECT_EQ(out, R"({"a":1,"b":[1,"x",null,true,false,{},[]],"c":{"d":100.50},"e":null})");
  parse_ok(out);
}

TEST(JsonWriter, AppendsToExistingText) {
  std::string out = "prefix:";
  Writer(out).begin_array().integer(1).end_array();
  EXPECT_EQ(out, "prefix:[1]");
}

TEST(JsonWriter, TopLevelScalars) {
  std::string out;
  Writer(out).string("s");
  EXPECT_EQ(out, R"("s")");
  out.clear();
  Writer(out).number_raw("-0.5e-3");
  EXPECT_EQ(out, "-0.5e-3");
}

TEST(JsonWriter, Integers) {
  std::string out;
  Writer(out)
      .begin_array()
      .integer(0)
      .integer(-1)
      .integer(std::numeric_limits<std::int64_t>::max())
      .integer(std::numeric_limits<std::int64_t>::min())
      .end_array();
  EXPECT_EQ(out, "[0,-1,9223372036854775807,-9223372036854775808]");
}

std::string written(std::string_view s) {
  std::string out;
  Writer(out).string(s);
  return out;
}

TEST(JsonWriter, Escaping) {
  EXPECT_EQ(written("plain"), R"("plain")");
  EXPECT_EQ(written(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(written("\n\t\r\b\f"), R"("\u000a\u0009\u000d\u0008\u000c")");
  EXPECT_EQ(written("\0\x01\x1F"s), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(written("\x7F"), "\"\x7F\"");
  EXPECT_EQ(written("/"), R"("/")");
  EXPECT_EQ(written(""), R"("")");
}

TEST(JsonWriter, ValidUtf8PassesThrough) {
  const std::string text =
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE2\x82\xAC "
      "\xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  EXPECT_EQ(written(text), '"' + text + '"');
}

TEST(JsonWriter, InvalidUtf8IsReplaced) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(written("a\xFF"
                    "b"),
            "\"a" + kReplacement + "b\"");
  EXPECT_EQ(written("\xC0\xAF"), '"' + kReplacement + kReplacement + '"');
  EXPECT_EQ(written("\xED\xA0\x80"), '"' + kReplacement + kReplacement + kReplacement + '"');
  EXPECT_EQ(written("x\xE2\x82"), "\"x" + kReplacement + kReplacement + '"');  // truncated
  // Whatever bytes go in, what comes out parses.
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  parse_ok(written(all_bytes));
}

TEST(JsonWriter, KeysAreEscaped) {
  std::string out;
  Writer(out).begin_object().key("a\"\n").integer(1).end_object();
  EXPECT_EQ(out, R"({"a\"\u000a":1})");
  EXPECT_EQ(parse_ok(out).find("a\"\n")->number_text(), "1");
}

TEST(JsonWriter, ValueNextToOtherItems) {
  const Value v = parse_ok(R"({"x":[1,{}]})");
  std::string out;
  Writer(out).begin_array().integer(0).value(v).value(v).string("end").end_array();
  EXPECT_EQ(out, R"([0,{"x":[1,{}]},{"x":[1,{}]},"end"])");
}

TEST(JsonWriter, DeepHandBuiltValueIsWrittenIteratively) {
  // Deeper than parse() allows; fine on a default 8 MiB stack, where this Value's own (recursive)
  // destructor runs.
  Value v = Value::number("1");
  for (int i = 0; i < 5000; ++i) {
    Value::Array items;
    items.push_back(std::move(v));
    v = Value::array(std::move(items));
  }
  EXPECT_EQ(to_string(v), std::string(5000, '[') + "1" + std::string(5000, ']'));
}

// ---------------------------------------------------------------------------------------------
// Round trips.

TEST(JsonRoundTrip, CompactDocumentsAreReproducedExactly) {
  for (const std::string_view text :
       {kPayoutBody, std::string_view(R"([])"), std::string_view(R"({})"),
        std::string_view(R"([null,true,false,0,-0,1.5e-7,"",{"":[]}])"),
        std::string_view(R"({"amount":{"value":0.00,"currency":"JPY"},"list":[[[[]]]]})"),
        std::string_view("\"\xD0\x9F\xF0\x9F\x98\x80\"")}) {
    EXPECT_EQ(reparsed(text), text);
  }
}

TEST(JsonRoundTrip, EscapesAreNormalized) {
  EXPECT_EQ(reparsed(R"("\u0041\/\n\"")"), R"("A/\u000a\"")");
  EXPECT_EQ(reparsed(R"("\uD83D\uDE00")"), "\"\xF0\x9F\x98\x80\"");
}

TEST(JsonRoundTrip, ParseOfWrittenValueIsEqual) {
  Value::Object members;
  members.emplace_back("s", Value::string("tab\there \"q\" \xE2\x82\xAC \x01"));
  members.emplace_back("n", Value::number("-12.340"));
  members.emplace_back("b", Value::boolean(true));
  members.emplace_back("z", Value::null());
  Value::Array items;
  items.push_back(Value::number("1e400"));
  items.push_back(Value::object({}));
  members.emplace_back("a", Value::array(std::move(items)));
  const Value v = Value::object(std::move(members));
  const std::string text = to_string(v);
  EXPECT_EQ(parse_ok(text), v);
  EXPECT_EQ(to_string(parse_ok(text)), text);
}

TEST(JsonValue, FactoriesAndEquality) {
  EXPECT_EQ(Value::null(), Value());
  EXPECT_EQ(Value::boolean(true), parse_ok("true"));
  EXPECT_EQ(Value::number("1.0"), parse_ok("1.0"));
  EXPECT_FALSE(Value::number("1.0") == Value::number("1"));
  EXPECT_EQ(Value::string("x"), parse_ok(R"("x")"));
  EXPECT_FALSE(Value::array({}) == Value::object({}));
}

TEST(JsonValue, IsNumberLiteral) {
  for (const char* yes : {"0", "-0", "1", "10", "1.5", "-1.50", "1e5", "1E+5", "1e-5", "0.0e0"}) {
    EXPECT_TRUE(is_number_literal(yes)) << yes;
  }
  for (const char* no :
       {"", "-", "01", "1.", ".1", "+1", "1e", "1e+", " 1", "1 ", "NaN", "0x1", "1.2.3", "--1"}) {
    EXPECT_FALSE(is_number_literal(no)) << no;
  }
}

// ---------------------------------------------------------------------------------------------
// parse() reuses per-thread scratch space: no parse may see another's leftovers.

TEST(JsonWorkspace, FailedParsesLeaveNothingBehind) {
  const std::string good = R"({"k":[1,{"a":"b"}],"z":{"y":[]}})";
  for (const char* bad : {R"([[1,2,{"a":)", R"({"a":{"b":{"c":[1,2,3)", R"({"k":1,"k":2})",
                          R"([1,2,3,{"x":"\uD800"}])", R"({"a":[{"b":1}],"c")"}) {
    EXPECT_FALSE(parse(bad).value) << bad;
    EXPECT_EQ(reparsed(good), good) << "after " << bad;
  }
}

TEST(JsonWorkspace, LargeDocumentThenSmallOne) {
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("key" + std::to_string(i));
  std::string big = "[";
  for (int i = 0; i < 3000; ++i) big += (i == 0 ? "" : ",") + object_with_keys(keys);
  big += "]";
  const Value v = parse_ok(big);
  EXPECT_EQ(v.as_array().size(), 3000u);
  EXPECT_EQ(v.as_array()[2999].find("key99")->number_text(), "99");
  EXPECT_EQ(reparsed(kPayoutBody), kPayoutBody);
  // Also after a large document failed half way.
  EXPECT_FALSE(parse(big.substr(0, big.size() / 2)).value);
  EXPECT_EQ(reparsed(kPayoutBody), kPayoutBody);
}

TEST(JsonWorkspace, ConcurrentParsesAreIndependent) {
  // Each document with its compact form as the writer produces it.
  const std::vector<std::pair<std::string, std::string>> documents = {
      {std::string(kPayoutBody), std::string(kPayoutBody)},
      {R"([1, [2,[3,[4]]], {"a":{"b":{"c":"d"}}}])", R"([1,[2,[3,[4]]],{"a":{"b":{"c":"d"}}}])"},
      {R"({"x":"\u00e9"})", "{\"x\":\"\xC3\xA9\"}"}};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&documents, &mismatches, t] {
      for (std::size_t i = 0; i < 3000; ++i) {
        const auto& [text, compact] = documents[(t + i) % documents.size()];
        const ParseResult r = parse(text);
        if (!r.value || to_string(*r.value) != compact) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: random mutations of valid documents must never crash (run under ASan/UBSan).

TEST(JsonFuzz, MutatedDocumentsNeverCrash) {
  const std::vector<std::string> seeds = {
      std::string(kPayoutBody),
      R"({"a":[1,-2.5e+3,true,false,null,"s\u00e9\uD83D\uDE00\n"],"b":{"c":{}}})",
      "[\"\xD0\x9F\xE2\x82\xAC\xF0\x9F\x98\x80\",[[[{\"k\":\"v\"}]]],0.1e1]",
  };
  const std::string alphabet = "{}[]\",:\\/-+.eE0123456789 \t\n\rtrufalsn\xC3\xA9\xF0\x80\xED\xFF";
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int iteration = 0; iteration < 30000; ++iteration) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 3);
          break;
        case 2:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 3:
          text[at] = static_cast<char>(rng());
          break;
      }
    }
    Limits limits;
    limits.depth_max = 1 + rng() % 8;
    limits.container_items_max = 1 + rng() % 8;
    limits.string_bytes_max = rng() % 64;
    const ParseResult r = parse(text, limits);
    if (r.value) {
      ++accepted;
      // Anything accepted survives a write/parse round trip unchanged.
      const std::string written_text = to_string(*r.value);
      const ParseResult again = parse(written_text, limits);
      ASSERT_TRUE(again.value) << written_text;
      EXPECT_EQ(*again.value, *r.value);
    } else {
      EXPECT_FALSE(r.error.message.empty());
      EXPECT_LE(r.error.offset, text.size());
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(JsonFuzz, RandomBytesNeverCrash) {
  std::mt19937 rng(777);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text(rng() % 40, '\0');
    for (char& c : text) c = static_cast<char>(rng());
    const ParseResult r = parse(text);
    if (!r.value) {
      EXPECT_LE(r.error.offset, text.size());
    }
  }
}

}  // namespace
}  // namespace payoutd::json
