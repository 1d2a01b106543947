#pragma once
// Comparing secrets, and the secrets the sandbox publishes.
#include <string_view>

namespace payoutd {

// Whether two secrets (a password, a token, a signature, a code's MAC) are equal, in time that
// tells nothing of either: both are hashed under a key of this process first and the fixed-size
// hashes compared in constant time, so neither a common prefix nor a length mismatch shows.
// An empty secret equals nothing, not even another empty one.
bool secrets_equal(std::string_view a, std::string_view b);

// 16 bytes (binary) of a keyed hash of `value` under the key of this process: a fixed-size name
// for text an attacker chooses (a table keyed by it costs the same whatever they send).
std::string short_digest(std::string_view value);

// Whether `value` is one of the secrets published with the sandbox (config/sandbox.toml, the
// spec's sandbox page, the docs, the seeds' examples): its admin token, partner tokens and
// passwords, ecommpay secret keys, cabinet passwords and their hashes, the vault's key (with or
// without its "sandbox-only:" prefix, any letter case). Known by their SHA-256 only. Outside the
// sandbox every one of them is refused: anyone can read them.
bool is_published_secret(std::string_view value);

}  // namespace payoutd
