#include "core/client_certificate.h"

#include <algorithm>

namespace payoutd {

bool ClientCertificatePolicy::admits(const ClientCertificate* certificate) const {
  if (empty()) return true;
  if (!certificate || !certificate->verified) return false;
  auto listed = [](const std::vector<std::string>& list, const std::string& value) {
    return !value.empty() && std::find(list.begin(), list.end(), value) != list.end();
  };
  return listed(subjects, certificate->subject) || listed(spki_sha256, certificate->spki_sha256);
}

bool is_spki_pin(std::string_view text) {
  constexpr std::size_t kPinChars = 44;  // base64 of 32 bytes: 43 characters and one '='
  if (text.size() != kPinChars || text.back() != '=') return false;
  auto base64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  if (!std::all_of(text.begin(), text.end() - 1, base64)) return false;
  // The last character before '=' carries 2 bits of padding, which must be zero.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return kAlphabet.find(text[kPinChars - 2]) % 4 == 0;
}

}  // namespace payoutd
