#include "cards/card.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace payoutd::cards {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool luhn_valid(std::string_view digits) {
  if (!all_digits(digits)) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string mask_pan(std::string_view pan) {
  const std::size_t n = pan.size();
  const std::size_t head = n >= kPanDigitsMin ? 6 : 0;
  const std::size_t tail = n >= kPanDigitsMin ? 4 : n / 4;
  std::string out(pan.substr(0, head));
  out.append(n - head - tail, 'X');
  out.append(pan.substr(n - tail));
  return out;
}

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) {
    while (!field.empty() && (field.back() == ' ' || field.back() == '\r')) field.pop_back();
    while (!field.empty() && field.front() == ' ') field.erase(0, 1);
    fields.push_back(field);
  }
  return fields;
}

}  // namespace

BinTable BinTable::parse(std::string_view csv, const std::string& source) {
  BinTable table;
  std::istringstream in{std::string(csv)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#' || line == "\r") continue;
    const auto f = split_csv_line(line);
    const std::string where = source + ":" + std::to_string(number);
    if (f.size() != 5) throw std::runtime_error(where + ": expected 5 fields");
    for (int i : {0, 1}) {
      if (!all_digits(f[i]) || f[i].size() < 6 || f[i].size() > kPanDigitsMax) {
        throw std::runtime_error(where + ": a range bound is 6 to 19 digits");
      }
    }
    Range r;
    r.low = f[0] + std::string(kPanDigitsMax - f[0].size(), '0');
    r.high = f[1] + std::string(kPanDigitsMax - f[1].size(), '9');
    if (r.high < r.low) throw std::runtime_error(where + ": range_end is below range_start");
    if (f[3].size() != 2) throw std::runtime_error(where + ": country is two letters");
    r.issuer = {f[2], f[3], f[4]};
    table.ranges_.push_back(std::move(r));
  }
  return table;
}

BinTable BinTable::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the BIN table " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

std::optional<Issuer> BinTable::find(std::string_view pan) const {
  if (!all_digits(pan) || pan.size() > kPanDigitsMax) return std::nullopt;
  std::string low(pan);
  low.append(kPanDigitsMax - pan.size(), '0');
  std::string high(pan);
  high.append(kPanDigitsMax - pan.size(), '9');
  const Range* best = nullptr;
  for (const Range& r : ranges_) {
    if (low < r.low || high > r.high) continue;
    if (!best || (r.high.compare(best->high) <= 0 && r.low.compare(best->low) >= 0)) best = &r;
  }
  if (!best) return std::nullopt;
  return best->issuer;
}

}  // namespace payoutd::cards
