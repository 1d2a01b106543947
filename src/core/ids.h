#pragma once
// Identifiers payoutd mints: operation UUIDs and request trace ids.
// Thread-safe: each thread has its own generator seeded from the OS entropy source.
#include <string>

namespace payoutd {

// A time-ordered (version 7, RFC 9562) UUID in the canonical 8-4-4-4-12 lowercase form: 48 bits
// of Unix milliseconds, then 74 random bits. Ids minted later sort later, so an index over them
// grows at its right edge instead of dirtying a random page per insert.
std::string new_uuid();

// 16 lowercase hex digits; identifies one request in logs and error bodies.
std::string new_trace_id();

// Fills `size` bytes with cryptographically strong random bytes (libsodium).
void random_bytes(void* out, std::size_t size);

}  // namespace payoutd
