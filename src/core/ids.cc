#include "core/ids.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace payoutd {
namespace {

// xoshiro256**: fast, 256-bit state; seeded per thread from libsodium, so ids differ across
// threads, processes and restarts. UUIDs need uniqueness, not secrecy.
class Xoshiro256 {
 public:
  Xoshiro256() { random_bytes(state_.data(), sizeof(state_)); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

Xoshiro256& generator() {
  thread_local Xoshiro256 g;
  return g;
}

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(value >> (i * 4)) & 0xF]);
}

}  // namespace

void random_bytes(void* out, std::size_t size) {
  static const int init = sodium_init();
  (void)init;
  randombytes_buf(out, size);
}

std::string random_url_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  random_bytes(raw.data(), raw.size());
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();  // the terminating NUL sodium_bin2base64 writes
  return out;
}

namespace {

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
  std::string out;
  out.reserve(36);
  append_hex(out, hi >> 32, 8);
  out.push_back('-');
  append_hex(out, (hi >> 16) & 0xFFFF, 4);
  out.push_back('-');
  append_hex(out, hi & 0xFFFF, 4);
  out.push_back('-');
  append_hex(out, lo >> 48, 4);
  out.push_back('-');
  append_hex(out, lo & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

std::uint64_t now_ms_u64() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

std::string new_history_uuid(std::int64_t account_id, std::int64_t seq) {
  const std::uint64_t hi =
      (now_ms_u64() << 16) | 0x8000ULL | (generator().next() & 0x0FFFULL);  // version 8
  const std::uint64_t lo = (0x2ULL << 62) |                                 // RFC 9562 variant
                           (static_cast<std::uint64_t>(account_id & kHistoryAccountMax) << 32) |
                           static_cast<std::uint64_t>(seq & kHistorySeqMax);
  return format_uuid(hi, lo);
}

std::optional<std::pair<std::int64_t, std::int64_t>> decode_history_uuid(std::string_view id) {
  if (id.size() != 36) return std::nullopt;
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  int digits = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) return std::nullopt;  // minted ids are lowercase
    std::uint64_t& half = digits < 16 ? hi : lo;
    half = (half << 4) | static_cast<std::uint64_t>(v);
    ++digits;
  }
  if (((hi >> 12) & 0xF) != 8 || (lo >> 62) != 0x2) return std::nullopt;
  const auto account = static_cast<std::int64_t>((lo >> 32) & kHistoryAccountMax);
  const auto seq = static_cast<std::int64_t>(lo & kHistorySeqMax);
  if (account == 0 || seq == 0) return std::nullopt;
  return std::make_pair(account, seq);
}

std::string new_trace_id() {
  std::string out;
  out.reserve(16);
  append_hex(out, generator().next(), 16);
  return out;
}

std::string new_request_id() {
  std::string out;
  out.reserve(32);
  append_hex(out, generator().next(), 16);
  append_hex(out, generator().next(), 16);
  return out;
}

bool is_request_id(std::string_view id) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  };
  return !id.empty() && id.size() <= kRequestIdCharsMax &&
         std::all_of(id.begin(), id.end(), allowed);
}

std::string new_uuid() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace payoutd
