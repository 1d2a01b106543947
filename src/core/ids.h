#pragma once
// Identifiers payoutd mints: operation UUIDs and request trace ids.
// Thread-safe: each thread has its own generator seeded from the OS entropy source.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace payoutd {

// A history entry's id (txnHistoryId): a version 8 (RFC 9562, custom) UUID that carries the
// entry's position, so a cursor is found without an index on the id: 48 bits of Unix
// milliseconds, 12 random bits, then the account (30 bits) and the entry's sequence number in
// that account (32 bits). Preconditions: 0 < account_id <= kHistoryAccountMax, 0 < seq <=
// kHistorySeqMax.
inline constexpr std::int64_t kHistoryAccountMax = (std::int64_t{1} << 30) - 1;
inline constexpr std::int64_t kHistorySeqMax = (std::int64_t{1} << 32) - 1;
std::string new_history_uuid(std::int64_t account_id, std::int64_t seq);
// (account_id, seq) of a history id minted by new_history_uuid; nullopt for any other text.
std::optional<std::pair<std::int64_t, std::int64_t>> decode_history_uuid(std::string_view id);

// A random (version 4) UUID in lowercase: order ids, card and binding ids.
std::string new_uuid();

// 16 lowercase hex digits; identifies one request in logs and error bodies.
std::string new_trace_id();

// 32 lowercase hex digits (128 bits): a request's id (X-Request-Id) when the client sent none.
std::string new_request_id();
// The longest request id accepted from a client.
inline constexpr std::size_t kRequestIdCharsMax = 128;
// Whether `id` may be a request id: 1 to kRequestIdCharsMax characters of A-Z a-z 0-9 . _ : -
// (nothing that could split a header or a log line, or look like anything but an id).
bool is_request_id(std::string_view id);

// Fills `size` bytes with cryptographically strong random bytes (libsodium).
void random_bytes(void* out, std::size_t size);
// `bytes` random bytes as URL-safe base64 without padding (A-Z a-z 0-9 - _): session tokens,
// generated partner credentials.
std::string random_url_token(std::size_t bytes);

}  // namespace payoutd
