// The hosted pages' and the cabinet's shared parsing of query strings and form bodies.
#include <gtest/gtest.h>

#include "web/forms.h"

namespace payoutd::web {
namespace {

std::string names_form(std::size_t count, std::string_view last = {}) {
  std::string form;
  for (std::size_t i = 0; i < count; ++i)
    form.append(form.empty() ? "" : "&").append("p").append(std::to_string(i)).append("=1");
  if (!last.empty()) form.append("&").append(last);
  return form;
}

TEST(ParseForm, DecodesInOrder) {
  auto p = parse_form("a=1&b=x+y&c=%41%42&&d");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (FormParams{{"a", "1"}, {"b", "x y"}, {"c", "AB"}, {"d", ""}}));
  EXPECT_EQ(form_value(*p, "c"), "AB");
  EXPECT_EQ(form_value(*p, "missing"), "");
}

TEST(ParseForm, RefusesARepeatedNameWhereverItIs) {
  EXPECT_FALSE(parse_form("a=1&a=2"));
  EXPECT_FALSE(parse_form(names_form(900, "p3=again")));  // far from its first use
  EXPECT_FALSE(parse_form("a=1&%61=2"));                  // the same name once decoded
}

TEST(ParseForm, RefusesMalformedEscapes) {
  EXPECT_FALSE(parse_form("a=%4"));
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_FALSE(parse_form("a=%00"));
}

// Browsers escape these, but a hand-made query need not: RFC 3986 refuses them raw, the forms
// have always read them.
TEST(ParseForm, ReadsBytesAUrlShouldEscape) {
  auto p = parse_form("q=a b\"<>|\\^`{}&n=\xD0\xB0");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (FormParams{{"q", "a b\"<>|\\^`{}"}, {"n", "\xD0\xB0"}}));
}

// A body of thousands of tiny parameters is refused after one pass instead of costing the I/O
// thread a comparison of every name with every other.
TEST(ParseForm, BoundsTheNumberOfParameters) {
  auto most = parse_form(names_form(kFormParamsMax));
  ASSERT_TRUE(most);
  EXPECT_EQ(most->size(), kFormParamsMax);
  EXPECT_FALSE(parse_form(names_form(kFormParamsMax + 1)));
  EXPECT_FALSE(parse_form(names_form(20'000)));  // what 64 KiB of one-letter names holds
}

}  // namespace
}  // namespace payoutd::web
