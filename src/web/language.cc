#include "web/language.h"

#include <array>
#include <optional>

namespace payoutd::web {
namespace {

bool whitespace(char c) { return c == ' ' || c == '\t'; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && whitespace(s.front())) s.remove_prefix(1);
  while (!s.empty() && whitespace(s.back())) s.remove_suffix(1);
  return s;
}

bool same_letters(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 4647's language-range: "*", or 1*8ALPHA *("-" 1*8alphanum).
bool valid_range(std::string_view range) {
  if (range == "*") return true;
  std::size_t part_size = 0;
  bool first_part = true;
  for (char c : range) {
    if (c == '-') {
      if (part_size == 0) return false;
      part_size = 0;
      first_part = false;
      continue;
    }
    if (!alpha(c) && (first_part || !digit(c))) return false;
    if (++part_size > 8) return false;
  }
  return part_size > 0;
}

// RFC 9110's qvalue ("0", "0.8", "1.000") in thousandths; nullopt when it is not one.
std::optional<int> weight_of(std::string_view q) {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return std::nullopt;
  int weight = q[0] == '1' ? 1000 : 0;
  if (q.size() == 1) return weight;
  if (q[1] != '.' || q.size() > 5) return std::nullopt;
  int scale = 100;
  for (char c : q.substr(2)) {
    if (!digit(c)) return std::nullopt;
    weight += (c - '0') * scale;
    scale /= 10;
  }
  if (weight > 1000) return std::nullopt;
  return weight;
}

struct Range {
  std::string_view tag;  // as sent: "ru-RU", "*"
  int weight = 1000;     // thousandths
};

// One element of the list: "ru-RU;q=0.8" is {"ru-RU", 800}; nullopt when it is malformed.
std::optional<Range> range_of(std::string_view element) {
  const std::size_t semicolon = element.find(';');
  Range r{trimmed(element.substr(0, semicolon))};
  if (!valid_range(r.tag)) return std::nullopt;
  if (semicolon == std::string_view::npos) return r;
  const std::string_view weight = trimmed(element.substr(semicolon + 1));
  if (weight.size() < 2 || lower(weight[0]) != 'q' || weight[1] != '=') return std::nullopt;
  const std::optional<int> w = weight_of(weight.substr(2));
  if (!w) return std::nullopt;
  r.weight = *w;
  return r;
}

// How closely a range names a language; a higher one overrides a lower one.
enum class Match { kNone, kAny, kPrefix, kExact };

Match match(std::string_view range, std::string_view language) {
  if (range == "*") return Match::kAny;
  if (range.size() < language.size() || !same_letters(range.substr(0, language.size()), language))
    return Match::kNone;
  if (range.size() == language.size()) return Match::kExact;
  return range[language.size()] == '-' ? Match::kPrefix : Match::kNone;
}

// What a header says of one language: its weight and the place of the range that gave it.
struct Preference {
  Match match = Match::kNone;
  int weight = 0;
  std::size_t position = 0;
};

Preference preference(std::span<const Range> ranges, std::string_view language) {
  Preference best;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const Match m = match(ranges[i].tag, language);
    if (m == Match::kNone) continue;
    if (m > best.match || (m == best.match && ranges[i].weight > best.weight))
      best = {m, ranges[i].weight, i};
  }
  return best;
}

}  // namespace

std::string_view negotiate_language(std::string_view accept_language,
                                    std::span<const std::string_view> offered) {
  std::array<Range, kLanguageRangesMax> ranges;
  std::size_t count = 0;
  while (count < ranges.size() && !accept_language.empty()) {
    const std::size_t comma = accept_language.find(',');
    if (auto r = range_of(accept_language.substr(0, comma))) ranges[count++] = *r;
    accept_language.remove_prefix(comma == std::string_view::npos ? accept_language.size()
                                                                  : comma + 1);
  }
  std::string_view chosen = offered.front();
  Preference chosen_preference;
  for (std::string_view language : offered) {
    const Preference p = preference(std::span(ranges.data(), count), language);
    const bool better = p.weight > chosen_preference.weight ||
                        (p.weight > 0 && p.weight == chosen_preference.weight &&
                         p.position < chosen_preference.position);
    if (better) chosen = language, chosen_preference = p;
  }
  return chosen;
}

std::string_view offered_language(std::span<const std::string_view> offered,
                                  std::string_view code) {
  for (std::string_view language : offered) {
    if (same_letters(language, code)) return language;
  }
  return {};
}

http::Responder varying_by_language(http::Responder respond) {
  return [respond = std::move(respond)](http::Response response) {
    response.headers.emplace_back("Vary", "Accept-Language");
    respond(std::move(response));
  };
}

}  // namespace payoutd::web
