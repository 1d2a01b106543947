#include "core/ids.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>

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

std::string new_uuid() {
  const auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::uint64_t hi = (now_ms << 16) | (generator().next() & 0x0FFFULL) | 0x7000ULL;  // version 7
  std::uint64_t lo = generator().next();
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);        // RFC 4122 variant
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

std::string new_trace_id() {
  std::string out;
  out.reserve(16);
  append_hex(out, generator().next(), 16);
  return out;
}

}  // namespace payoutd
