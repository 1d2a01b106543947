// The one reader of URL components (http/query.h): percent-escapes, the pieces of a query, and
// one parameter of an API's query string.
#include "http/query.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace payoutd::http {
namespace {

using namespace std::string_literals;

TEST(PercentDecode, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(percent_decode("a%41%62%2f%2F"), "aAb//");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%D0%B0"), "\xD0\xB0");
}

TEST(PercentDecode, KeepsPlusAndBytesAUrlShouldEscape) {
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // a space only in queries and forms
  EXPECT_EQ(percent_decode("a b\"<>\\^`{|}"), "a b\"<>\\^`{|}");
  EXPECT_EQ(percent_decode("\xD0\xB0"), "\xD0\xB0");
}

TEST(PercentDecode, RefusesMalformedEscapesAndNul) {
  for (const std::string& text :
       {"%"s, "%4"s, "a%4"s, "%zz"s, "%4g"s, "%g4"s, "a%"s, "%%41"s, "%00"s, "a\0b"s}) {
    EXPECT_FALSE(percent_decode(text)) << text;
  }
}

TEST(FormDecode, ReadsPlusAsASpace) {
  EXPECT_EQ(form_decode("x+y"), "x y");
  EXPECT_EQ(form_decode("x%2By"), "x+y");
  EXPECT_EQ(form_decode("%20+%20"), "   ");
  EXPECT_FALSE(form_decode("+%0"));
}

TEST(ForEachRawParam, SplitsAtEveryAmpersandWithoutDecoding) {
  std::vector<std::tuple<std::string, std::string, bool>> seen;
  for_each_raw_param("a=1&&b&=&c=x=y&%41=%42&", [&](const RawParam& p) {
    seen.emplace_back(p.name, p.value, p.has_value);
    return true;
  });
  EXPECT_EQ(seen, (decltype(seen){{"a", "1", true},
                                  {"", "", false},
                                  {"b", "", false},
                                  {"", "", true},
                                  {"c", "x=y", true},
                                  {"%41", "%42", true}}));
}

TEST(ForEachRawParam, StopsWhenAsked) {
  int calls = 0;
  for_each_raw_param("a&b&c", [&](const RawParam&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
}

TEST(QueryParam, FindsAndDecodesTheNamedParameter) {
  const QueryParam p = query_param("accountId=1&cursor=a+b%2Bc&limit=5", "cursor");
  EXPECT_TRUE(p.present);
  EXPECT_TRUE(p.valid);
  EXPECT_EQ(p.value, "a b+c");
  const QueryParam bare = query_param("x=1&limit", "limit");
  EXPECT_TRUE(bare.present && bare.valid);
  EXPECT_EQ(bare.value, "");
}

TEST(QueryParam, IsAbsentWhenNotSentAsSpelled) {
  for (const char* query : {"", "accountid=1", "account%49d=1", "accountId2=1", "xaccountId=1"}) {
    const QueryParam p = query_param(query, "accountId");
    EXPECT_FALSE(p.present) << query;
    EXPECT_TRUE(p.valid) << query;
    EXPECT_EQ(p.value, "") << query;
  }
}

TEST(QueryParam, GivenTwiceIsPresentButNotValid) {
  const QueryParam p = query_param("limit=5&x=1&limit=6", "limit");
  EXPECT_TRUE(p.present);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.value, "5");
}

TEST(QueryParam, RefusesOnlyItsOwnMalformedEscape) {
  EXPECT_FALSE(query_param("limit=%zz", "limit").valid);
  EXPECT_FALSE(query_param("limit=%00", "limit").valid);
  EXPECT_TRUE(query_param("limit=%zz", "limit").present);
  const QueryParam p = query_param("x=%zz&limit=5&y=%", "limit");
  EXPECT_TRUE(p.present && p.valid);
  EXPECT_EQ(p.value, "5");
}

// RFC 3986 refuses a query with these bytes raw; clients send them and the APIs have always read
// them.
TEST(QueryParam, ReadsBytesAUrlShouldEscape) {
  const QueryParam p = query_param("cursor=a b\"<>|\xD0\xB0", "cursor");
  EXPECT_TRUE(p.present && p.valid);
  EXPECT_EQ(p.value, "a b\"<>|\xD0\xB0");
}

}  // namespace
}  // namespace payoutd::http
