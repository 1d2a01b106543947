// Fuzz target: the BIN table loader (cards::BinTable::parse, data/bins-*.csv) and the card-number
// helpers that read what a user types on the card pages (luhn_valid, mask_pan, BinTable::find).
// For any bytes:
// - parse() either gives a table or throws std::runtime_error (any other exception, a crash, a
//   leak or a sanitizer report is a finding); a table never has more ranges than the input has
//   lines;
// - find(), over every run of digits in the input (a few hundred at most): an issuer it returns
//   has a two-letter country; anything but 1 to 19 digits finds nothing;
// - mask_pan keeps the length, and of a 13-to-19-digit number shows at most the first 6 and the
//   last 4 digits (everything between is X).
#include "cards/card.h"
#include "check.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using payoutd::cards::BinTable;

constexpr std::size_t kLookupsMax = 256;

std::vector<std::string_view> digit_runs(std::string_view text) {
  std::vector<std::string_view> runs;
  std::size_t i = 0;
  while (i < text.size() && runs.size() < kLookupsMax) {
    const std::size_t start = text.find_first_of("0123456789", i);
    if (start == std::string_view::npos) break;
    std::size_t end = text.find_first_not_of("0123456789", start);
    if (end == std::string_view::npos) end = text.size();
    runs.push_back(text.substr(start, end - start));
    i = end;
  }
  return runs;
}

void check_mask(std::string_view pan) {
  const std::string masked = payoutd::cards::mask_pan(pan);
  FUZZ_CHECK(masked.size() == pan.size());
  if (pan.size() < payoutd::cards::kPanDigitsMin) return;
  FUZZ_CHECK(masked.substr(0, 6) == pan.substr(0, 6));
  FUZZ_CHECK(masked.substr(masked.size() - 4) == pan.substr(pan.size() - 4));
  FUZZ_CHECK(masked.find_first_not_of('X', 6) == masked.size() - 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = payoutd::fuzz::text_of(data, size);
  std::optional<BinTable> table;
  try {
    table = BinTable::parse(text, "fuzz.csv");
  } catch (const std::runtime_error&) {
    table = BinTable();  // refused with the line named; the lookups still run on an empty table
  }
  FUZZ_CHECK(table->size() <=
             static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  for (const std::string_view run : digit_runs(text)) {
    payoutd::cards::luhn_valid(run);
    if (run.size() <= payoutd::cards::kPanDigitsMax) check_mask(run);
    if (const auto issuer = table->find(run)) FUZZ_CHECK(issuer->country.size() == 2);
    if (run.size() > payoutd::cards::kPanDigitsMax) FUZZ_CHECK(!table->find(run));
    FUZZ_CHECK(!table->find(std::string(run) + "x"));
  }
  FUZZ_CHECK(!table->find(""));
  return 0;
}
