#include "providers/ecommpay/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "web/api.h"

namespace payoutd::providers::ecommpay {
namespace {

bool ignored(std::string_view key) { return key == "signature" || key == "frame_mode"; }

void flatten(const json::Value& v, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  switch (v.kind()) {
    case json::Value::Kind::kNull:
      out.emplace_back(path, "");
      return;
    case json::Value::Kind::kBool:
      out.emplace_back(path, v.as_bool() ? "1" : "0");
      return;
    case json::Value::Kind::kNumber:
      out.emplace_back(path, std::string(v.number_text()));
      return;
    case json::Value::Kind::kString:
      out.emplace_back(path, v.as_string());
      return;
    case json::Value::Kind::kArray: {
      const auto& items = v.as_array();
      for (std::size_t i = 0; i < items.size(); ++i) {
        flatten(items[i], path.empty() ? std::to_string(i) : path + ":" + std::to_string(i), out);
      }
      return;
    }
    case json::Value::Kind::kObject:
      for (const auto& [key, member] : v.as_object()) {
        if (ignored(key)) continue;
        std::string child = path;
        if (!child.empty()) child += ':';
        child += key;
        flatten(member, child, out);
      }
      return;
  }
}

// Natural order, as PHP's SORT_NATURAL: runs of digits compare by their value.
bool natural_less(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::string_view x = a.substr(i, ie - i), y = b.substr(j, je - j);
      while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
      while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::string joined(std::vector<std::pair<std::string, std::string>> pairs) {
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& x, const auto& y) { return natural_less(x.first, y.first); });
  std::string out;
  for (const auto& [path, value] : pairs) {
    if (!out.empty()) out.push_back(';');
    out.append(path).push_back(':');
    out.append(value);
  }
  return out;
}

}  // namespace

std::string signing_string(const json::Value& document) {
  std::vector<std::pair<std::string, std::string>> pairs;
  flatten(document, "", pairs);
  return joined(std::move(pairs));
}

std::string signing_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& p : params) {
    if (!ignored(p.first)) pairs.push_back(p);
  }
  return joined(std::move(pairs));
}

std::string sign(std::string_view secret, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha512(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &size);
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool signature_valid(std::string_view secret, std::string_view text, std::string_view signature) {
  return secrets_equal(sign(secret, text), signature);
}

}  // namespace payoutd::providers::ecommpay
