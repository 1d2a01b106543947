#include "rails/jwe.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

#include "core/json.h"

namespace payoutd::rails {

struct JweKey::Impl {
  EVP_PKEY* key = nullptr;
  ~Impl() { EVP_PKEY_free(key); }
};

JweKey::JweKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JweKey::~JweKey() = default;

namespace {

constexpr std::size_t kKeyBytes = 16;  // A128GCM
constexpr std::size_t kIvBytes = 12;
constexpr std::size_t kTagBytes = 16;

std::string base64url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;
  }
  const std::size_t pad = (4 - s.size() % 4) % 4;
  if (pad == 3) return std::nullopt;
  s.append(pad, '=');
  std::string out(3 * s.size() / 4, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

// RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 7518's RSA-OAEP-256), either way.
std::optional<std::string> rsa_oaep(EVP_PKEY* key, std::string_view in, bool encrypt) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  if (!ctx) return std::nullopt;
  std::optional<std::string> result;
  const bool ready = (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0 &&
                     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                     EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
                     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0;
  const auto* data = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t size = 0;
  if (ready && (encrypt ? EVP_PKEY_encrypt(ctx, nullptr, &size, data, in.size())
                        : EVP_PKEY_decrypt(ctx, nullptr, &size, data, in.size())) > 0) {
    std::string out(size, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if ((encrypt ? EVP_PKEY_encrypt(ctx, o, &size, data, in.size())
                 : EVP_PKEY_decrypt(ctx, o, &size, data, in.size())) > 0) {
      out.resize(size);
      result = std::move(out);
    }
  }
  EVP_PKEY_CTX_free(ctx);
  return result;
}

// AES-128-GCM: seals (ciphertext, tag) or opens (plaintext; nullopt when the tag is wrong).
struct Gcm {
  std::string key, iv, aad;

  std::optional<std::pair<std::string, std::string>> seal(std::string_view plaintext) const {
    std::string out(plaintext.size(), '\0'), tag(kTagBytes, '\0');
    return run(plaintext, out, tag, true) ? std::optional(std::pair(out, tag)) : std::nullopt;
  }
  std::optional<std::string> open(std::string_view ciphertext, std::string tag) const {
    std::string out(ciphertext.size(), '\0');
    return run(ciphertext, out, tag, false) ? std::optional(out) : std::nullopt;
  }

 private:
  bool run(std::string_view in, std::string& out, std::string& tag, bool encrypt) const {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return false;
    const auto u = [](const std::string& s) {
      return reinterpret_cast<const unsigned char*>(s.data());
    };
    int n = 0;
    bool ok = EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, encrypt) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()),
                                  nullptr) == 1 &&
              EVP_CipherInit_ex(ctx, nullptr, nullptr, u(key), u(iv), encrypt) == 1 &&
              EVP_CipherUpdate(ctx, nullptr, &n, u(aad), static_cast<int>(aad.size())) == 1 &&
              EVP_CipherUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                               reinterpret_cast<const unsigned char*>(in.data()),
                               static_cast<int>(in.size())) == 1;
    if (ok && !encrypt) {
      ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                               tag.data()) == 1;
    }
    int last = 0;
    ok =
        ok && EVP_CipherFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &last) == 1;
    if (ok && encrypt) {
      ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                               tag.data()) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
  }
};

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::unique_ptr<JweKey::Impl> key_from(EVP_PKEY* key) {
  if (!key) return nullptr;
  auto impl = std::make_unique<JweKey::Impl>();
  impl->key = key;
  return impl;
}

void set_error(std::string* error, std::string why) {
  if (error) *error = std::move(why);
}

}  // namespace

std::unique_ptr<JweKey> JweKey::public_from_pem_file(const std::string& path, std::string* error) {
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (!bio) {
    set_error(error, "cannot read " + path);
    return nullptr;
  }
  EVP_PKEY* key = nullptr;
  if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    key = X509_get_pubkey(cert);
    X509_free(cert);
  } else {
    BIO_reset(bio);
    key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  auto impl = key_from(key);
  if (!impl || EVP_PKEY_base_id(impl->key) != EVP_PKEY_RSA) {
    set_error(error, path + " holds no RSA certificate or public key");
    return nullptr;
  }
  return std::unique_ptr<JweKey>(new JweKey(std::move(impl)));
}

std::unique_ptr<JweKey> JweKey::private_from_pem_file(const std::string& path, std::string* error) {
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (!bio) {
    set_error(error, "cannot read " + path);
    return nullptr;
  }
  auto impl = key_from(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!impl || EVP_PKEY_base_id(impl->key) != EVP_PKEY_RSA) {
    set_error(error, path + " holds no RSA private key");
    return nullptr;
  }
  return std::unique_ptr<JweKey>(new JweKey(std::move(impl)));
}

std::optional<std::string> jwe_seal(std::string_view plaintext, const JweKey& recipient,
                                    std::string_view kid, std::int64_t iat_ms, std::string* error) {
  std::string header;
  json::Writer w(header);
  w.begin_object().key("alg").string("RSA-OAEP-256").key("enc").string("A128GCM");
  w.key("kid").string(kid).key("iat").integer(iat_ms).end_object();
  const Gcm gcm{random_bytes(kKeyBytes), random_bytes(kIvBytes), base64url(header)};
  const std::optional<std::string> wrapped = rsa_oaep(recipient.impl_->key, gcm.key, true);
  const auto sealed = gcm.seal(plaintext);
  if (!wrapped || !sealed) {
    set_error(error, "cannot encrypt the message");
    return std::nullopt;
  }
  return gcm.aad + "." + base64url(*wrapped) + "." + base64url(gcm.iv) + "." +
         base64url(sealed->first) + "." + base64url(sealed->second);
}

std::optional<std::string> jwe_open(std::string_view compact, const JweKey& own,
                                    std::string* error) {
  std::array<std::string_view, 5> parts;
  std::size_t at = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::size_t dot = i + 1 < parts.size() ? compact.find('.', at) : compact.size();
    if (dot == std::string_view::npos) {
      set_error(error, "not a compact JWE");
      return std::nullopt;
    }
    parts[i] = compact.substr(at, dot - at);
    at = dot + 1;
  }
  if (parts[4].find('.') != std::string_view::npos) {
    set_error(error, "not a compact JWE");
    return std::nullopt;
  }
  const auto header = unbase64url(parts[0]);
  const json::ParseResult parsed = header ? json::parse(*header) : json::ParseResult{};
  const json::Value* alg = parsed.value ? parsed.value->find("alg") : nullptr;
  const json::Value* enc = parsed.value ? parsed.value->find("enc") : nullptr;
  if (!alg || !enc || !alg->is_string() || !enc->is_string() ||
      alg->as_string() != "RSA-OAEP-256" || enc->as_string() != "A128GCM") {
    set_error(error, "the JWE is not RSA-OAEP-256 with A128GCM");
    return std::nullopt;
  }
  const auto wrapped = unbase64url(parts[1]);
  const auto iv = unbase64url(parts[2]);
  const auto ciphertext = unbase64url(parts[3]);
  const auto tag = unbase64url(parts[4]);
  if (!wrapped || !iv || !ciphertext || !tag || iv->size() != kIvBytes ||
      tag->size() != kTagBytes) {
    set_error(error, "a part of the JWE is malformed");
    return std::nullopt;
  }
  const std::optional<std::string> key = rsa_oaep(own.impl_->key, *wrapped, false);
  if (!key || key->size() != kKeyBytes) {
    set_error(error, "the JWE's key does not open with ours");
    return std::nullopt;
  }
  const Gcm gcm{*key, *iv, std::string(parts[0])};
  std::optional<std::string> plaintext = gcm.open(*ciphertext, *tag);
  if (!plaintext) {
    set_error(error, "the JWE does not authenticate");
    return std::nullopt;
  }
  return plaintext;
}

}  // namespace payoutd::rails
