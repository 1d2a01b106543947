#pragma once
// Card numbers (PAN): shape and Luhn checks, the one mask every output uses, and the BIN table
// that says which scheme and country issued a card.
//
// A PAN is a secret: it is held in memory only as long as a request needs it, encrypted at rest
// (cards/vault.h), and never logged. Everything else handles the masked form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace payoutd::cards {

inline constexpr std::size_t kPanDigitsMin = 13;
inline constexpr std::size_t kPanDigitsMax = 19;

bool all_digits(std::string_view text);
bool luhn_valid(std::string_view digits);

// A 16-digit PAN -> "411111XXXXXX1111": at most the first 6 and the last 4 digits.
// Anything shorter than a PAN shows at most its last quarter.
std::string mask_pan(std::string_view pan);

// The issuer of a range of card numbers.
struct Issuer {
  std::string scheme;   // VISA, MASTERCARD, ...
  std::string country;  // ISO 3166-1 alpha-2, e.g. KZ
  std::string name;
};

// Ranges of card numbers and their issuers, from a CSV data file:
//   # comment
//   range_start,range_end,scheme,country,issuer
// A range holds every PAN whose leading digits lie between range_start and range_end (prefixes of
// 6 to 19 digits, compared digit by digit). Where ranges overlap, the narrowest wins, so one
// test card can be carved out of its bank's range.
class BinTable {
 public:
  BinTable() = default;
  // Throws std::runtime_error naming the file and line.
  static BinTable load(const std::string& path);
  static BinTable parse(std::string_view csv, const std::string& source);

  std::optional<Issuer> find(std::string_view pan) const;
  std::size_t size() const { return ranges_.size(); }

 private:
  struct Range {
    std::string low;   // range_start padded with 0 to 19 digits
    std::string high;  // range_end padded with 9
    Issuer issuer;
  };
  std::vector<Range> ranges_;
};

}  // namespace payoutd::cards
