#pragma once
// The language a page is shown in when nobody chose one: content negotiation by the browser's
// Accept-Language header (RFC 9110 §12.5.4) among the few languages the page is written in.
//
// Accept-Language is a list of language ranges (RFC 4647: "ru", "ru-RU", "zh-Hant-TW", "*"), each
// with an optional weight ";q=0.8" (0 to 1, three decimals at most; 0 means "not this one").
// A range names a page language when it is that language ("ru") or starts with it and a hyphen
// ("ru-RU": a page in Russian suits a reader of Russian in Russia). The most specific range that
// names a language gives its weight: "ru" before "ru-…" before "*"; among several equally specific
// ranges the highest weight counts. The page's language is the one of highest weight above 0; on a
// tie, the one whose range the header lists first, then the page's own order. An element that is
// not a range with at most one weight ("ru_RU", "ru;q=2", "ru;level=1") is ignored, as RFC 9110
// tells recipients to; an empty or wholly malformed header prefers nothing.
#include <cstddef>
#include <span>
#include <string_view>

#include "http/server.h"

namespace payoutd::web {

// The language ranges of one header that are read; those after them are ignored. Browsers send a
// handful; a header of thousands of ranges costs one pass over its bytes and no more.
inline constexpr std::size_t kLanguageRangesMax = 32;

// The language of `offered` (the page's languages as lowercase ISO 639-1 codes, its default
// first; never empty) that `accept_language`, the value of an Accept-Language header, prefers, or
// offered.front() when it prefers none of them. The result is an element of `offered`.
std::string_view negotiate_language(std::string_view accept_language,
                                    std::span<const std::string_view> offered);

// The element of `offered` that `code` names, ignoring ASCII case ("RU" names "ru"); empty when it
// names none (an empty code, or a language the page does not have).
std::string_view offered_language(std::span<const std::string_view> offered, std::string_view code);

// `respond`, that first adds "Vary: Accept-Language" to the response: for the answers of a page
// whose language (its text, or the page a redirect leads to) came from negotiate_language, so
// that no cache gives one reader's language to another.
http::Responder varying_by_language(http::Responder respond);

}  // namespace payoutd::web
