// The hosted pages' choice of a language from the browser's Accept-Language (RFC 9110 §12.5.4).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "web/language.h"

namespace payoutd::web {
namespace {

constexpr std::array<std::string_view, 2> kEnRu{"en", "ru"};  // ecommpay: English by default
constexpr std::array<std::string_view, 3> kRuEnKk{"ru", "en", "kk"};  // Bereke: Russian

std::string_view en_ru(std::string_view header) { return negotiate_language(header, kEnRu); }
std::string_view ru_en_kk(std::string_view header) { return negotiate_language(header, kRuEnKk); }

TEST(NegotiateLanguage, ABrowserInRussiaGetsRussian) {
  EXPECT_EQ(en_ru("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"), "ru");  // Chrome in Russian
  EXPECT_EQ(en_ru("ru-RU"), "ru");  // a region alone names the language
  EXPECT_EQ(en_ru("RU"), "ru");     // case does not matter
  EXPECT_EQ(ru_en_kk("kk-KZ,kk;q=0.9,ru;q=0.8"), "kk");
}

TEST(NegotiateLanguage, TheHighestWeightWins) {
  EXPECT_EQ(en_ru("en;q=0.5, ru;q=0.6"), "ru");
  EXPECT_EQ(en_ru("ru;q=0.001, en;q=0"), "ru");
  EXPECT_EQ(ru_en_kk("de-DE, de;q=0.9, en;q=0.5, kk;q=0.4"), "en");
  EXPECT_EQ(en_ru("en;q=0.8,ru;q=1.000"), "ru");
}

TEST(NegotiateLanguage, EqualWeightsGoToTheRangeListedFirst) {
  EXPECT_EQ(en_ru("ru, en"), "ru");
  EXPECT_EQ(en_ru("en, ru"), "en");
  EXPECT_EQ(ru_en_kk("de, kk;q=0.5, en;q=0.5"), "kk");
}

TEST(NegotiateLanguage, NothingAcceptableGivesThePagesDefault) {
  EXPECT_EQ(en_ru(""), "en");
  EXPECT_EQ(ru_en_kk(""), "ru");
  EXPECT_EQ(en_ru("de-DE,fr;q=0.5"), "en");
  EXPECT_EQ(ru_en_kk("ru;q=0, en;q=0, kk;q=0"), "ru");
  EXPECT_EQ(en_ru(",, ,"), "en");
}

TEST(NegotiateLanguage, AWildcardStandsForEveryLanguageNotNamed) {
  EXPECT_EQ(en_ru("*"), "en");                // the page's own order
  EXPECT_EQ(en_ru("en;q=0.5, *"), "ru");      // ru is only named by *
  EXPECT_EQ(en_ru("en;q=0, *;q=0.1"), "ru");  // en is refused by name
  EXPECT_EQ(ru_en_kk("*;q=0.2, kk;q=0.1"), "ru");
}

TEST(NegotiateLanguage, TheMostSpecificRangeGivesTheWeight) {
  EXPECT_EQ(en_ru("ru;q=0, ru-RU, en;q=0.1"), "en");           // "ru" outweighs "ru-RU" for ru
  EXPECT_EQ(en_ru("ru-RU;q=0, ru-BY;q=0.9, en;q=0.5"), "ru");  // the best of the regions
  EXPECT_EQ(en_ru("ru-RU;q=0.1, *;q=0.5"), "en");              // ru's weight is its region's
  EXPECT_EQ(en_ru("rus, en;q=0.1"), "en");                     // "rus" is another language
}

TEST(NegotiateLanguage, MalformedElementsAreIgnored) {
  EXPECT_EQ(en_ru("ru_RU, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q=2, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q=0.1234, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q=.5, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q=1.5, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;level=1, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q=0.9;q=0.8, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru;q = 0.9, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("toolongtag, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("r1, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru-, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("-ru, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("ru--RU, en;q=0.1"), "en");
  EXPECT_EQ(en_ru("\"ru\", en;q=0.1"), "en");
  EXPECT_EQ(en_ru(std::string("ru\0, en;q=0.1", 13)), "en");
  // What is well formed around them still counts, with the whitespace RFC 9110 allows.
  EXPECT_EQ(en_ru("xx;;, \t ru-Latn-RU-1994 ;\tQ=0.7 ,en;q=0.5"), "ru");
  EXPECT_EQ(en_ru("zh-Hant-TW;q=0.9, ru;q=0.3"), "ru");
}

TEST(NegotiateLanguage, OnlyTheFirstRangesOfAHostileHeaderAreRead) {
  std::string header;
  for (std::size_t i = 0; i < kLanguageRangesMax; ++i) header.append("de;q=0.1,");
  EXPECT_EQ(en_ru(header + "ru"), "en");  // the range after the limit is not read
  EXPECT_EQ(en_ru("ru," + header), "ru");
  // A header as long as the server accepts is one pass over its bytes.
  std::string huge;
  while (huge.size() < 16 * 1024) huge.append("x-,");
  EXPECT_EQ(en_ru(huge + "ru"), "ru");  // malformed elements are not ranges read
}

TEST(OfferedLanguage, NamesALanguageThePageHas) {
  EXPECT_EQ(offered_language(kEnRu, "ru"), "ru");
  EXPECT_EQ(offered_language(kEnRu, "RU"), "ru");
  EXPECT_EQ(offered_language(kEnRu, "de"), "");
  EXPECT_EQ(offered_language(kEnRu, ""), "");
  EXPECT_EQ(offered_language(kEnRu, "ru-RU"), "");                       // a code, not a range
  EXPECT_EQ(offered_language(kRuEnKk, "KK").data(), kRuEnKk[2].data());  // the page's own text
}

TEST(VaryingByLanguage, AddsTheVaryHeader) {
  http::Response sent;
  varying_by_language([&](http::Response r) { sent = std::move(r); })(http::Response{});
  ASSERT_EQ(sent.headers.size(), 1u);
  EXPECT_EQ(sent.headers[0].first, "Vary");
  EXPECT_EQ(sent.headers[0].second, "Accept-Language");
}

}  // namespace
}  // namespace payoutd::web
