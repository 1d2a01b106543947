#include "core/secrets.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>

#include "core/hex.h"
#include "core/ids.h"

namespace payoutd {
namespace {

// SHA-256, in hex, of each secret published with the sandbox. A test (tests/unit/secrets_test.cc)
// checks that every secret of config/sandbox.toml is here.
constexpr std::array<std::string_view, 23> kPublished = {
    "4f9814083bb8dcc580c88a0d585aaf6b8716e682020711e4a68cc6ae8df8339b",  // the admin token
    "91e6a8c8a82c5be7622fa0a2faff927e05d277507738a16a71e5b7ab153113fe",  // QIWI best-partner's
                                                                         // token
    "d922ede698e95676dc4f9ed5cd399b475139905d5f1648dca999313959699b03",  // Bereke's password (seed
                                                                         // 003)
    "4b2581f0f0d2d991b113d989abbacb557e1b1f0244b1e57ef6f6c1ec08936c1b",  // ecommpay 91348's secret
                                                                         // key
    "2233ffa8197fb3f4e80ad5556d002b4bf4ddae005eac72ee0a8dd3a3326f016d",  // ecommpay 91349's
    "104885959966ae7b9b39431cd4bdd85d4d8d5993d9cde451a059383de0da54bf",  // ecommpay 91350's
    "55fac9c504c0fa5e57610eaeec5658660770bb8719f672bb84a4478a63b26172",  // ecommpay 91351's
    "70710bb0f8f61d204c13aec1e008dddb89e3b0a18b5286d021025dd9ecf6b55e",  // cabinet: merchant-91348
    "5d80336fd02121ed6edbd05d4c96accb2368bdf75cd22ddb6f46f1df978fb062",  // cabinet:
                                                                         // best-partner-admin
    "35418b4bab5b58fcf579d3d371c805bd1682a4211a3e23277fc5941197acbf6a",  // cabinet: bereke-viewer
    "728daac0eccfd105b0f411aa6aa462c0225c9812b2325391b07faff271acf1ef",  // the vault's key (hex)
    "d73ed8eeda7166f157a6ec0e3666d1213010755e07bbadc60728e90c7aac0a06",  // cabinet hash:
                                                                         // payout_api_username
    "2b2493271ed82becc0769be07f078519bae5d3afb5d48d52bb76b4c1ec25cf4f",  // cabinet hash:
                                                                         // merchant-91348
    "33e9de2cb60cab828531dba1bbe6252cfe71e16e4cef78643e029a3fc0e5b32a",  // cabinet hash:
                                                                         // best-partner-admin
    "9f8edab89343025f0b091da943ee94beddbc56c925822d4adb526ac97abdb8b4",  // cabinet hash:
                                                                         // bereke-viewer
    "afe877ea57d6687b7f4168e05d6033ffca956afd14569086159e582aab237a87",  // console: ops-admin
    "3658b3e129b3bec301c6c5297b34bb73f175523b93103f0845f4065292a5e1e2",  // console: ops-finance
    "169ca2116c5d1ec75c2377ca7187d7ab1399d0a908f3d4e5422227a7c854af0c",  // console: ops-support
    "09d8cdfe3a7d67ecf03eaade0049ae2c34736287900ef093421956ff4b654509",  // console hash: ops-admin
    "a0232e9c54cbbefe6e61f6e4ae5b1001be74206cf2e3283b2351b1b35c03d065",  // console hash:
                                                                         // ops-finance
    "1f62b04d55c0cf4c3c9f1d38f2ad2a76bf93673d3b0daf20b11cb368dbfbcc1a",  // console hash:
                                                                         // ops-support
    "2b9400d4a8c1bc97b39d926fe9a30692dff8a19d0181e03ffd8adff4b3777ba5",  // console: ops-checker
    "2d23d6e30f90526b45a67ae390e1a60739e7709c8f7a150561807a39469caf37",  // console hash:
                                                                         // ops-checker
};

constexpr std::string_view kSandboxOnly = "sandbox-only:";

const std::array<unsigned char, crypto_generichash_KEYBYTES>& process_key() {
  static const auto key = [] {
    std::array<unsigned char, crypto_generichash_KEYBYTES> k{};
    random_bytes(k.data(), k.size());
    return k;
  }();
  return key;
}

std::string sha256_hex(std::string_view value) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(value.data()), value.size());
  return hex_encode(digest);
}

}  // namespace

bool secrets_equal(std::string_view a, std::string_view b) {
  const auto& key = process_key();
  unsigned char ha[32], hb[32];
  crypto_generichash(ha, sizeof ha, reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                     key.data(), key.size());
  crypto_generichash(hb, sizeof hb, reinterpret_cast<const unsigned char*>(b.data()), b.size(),
                     key.data(), key.size());
  return sodium_memcmp(ha, hb, sizeof ha) == 0 && !a.empty();
}

std::string short_digest(std::string_view value) {
  const auto& key = process_key();
  std::string out(16, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(value.data()), value.size(), key.data(),
                     key.size());
  return out;
}

bool is_published_secret(std::string_view value) {
  std::string text(value);
  if (text.starts_with(kSandboxOnly)) text.erase(0, kSandboxOnly.size());
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  const std::string exact = sha256_hex(text), folded = sha256_hex(lower);
  return std::any_of(kPublished.begin(), kPublished.end(),
                     [&](std::string_view h) { return h == exact || h == folded; });
}

}  // namespace payoutd
