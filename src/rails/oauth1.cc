#include "rails/oauth1.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "core/ids.h"

namespace payoutd::rails {

namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

struct Url {
  std::string base;   // scheme://host[:port]/path, scheme and host in lower case
  std::string query;  // as written, without '?'
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<Url> split_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  // The host in lower case, the port (if written) as it is.
  const std::size_t colon = authority.rfind(':');
  const bool has_port = colon != std::string_view::npos && authority.back() != ']';
  const std::string host = lower(has_port ? authority.substr(0, colon) : authority);
  const std::string port = has_port ? std::string(authority.substr(colon)) : std::string();
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const std::size_t question = path_and_query.find('?');
  std::string path(path_and_query.substr(0, question));
  if (path.empty()) path = "/";
  Url out;
  out.base = scheme + "://" + host + port + path;
  if (question != std::string_view::npos) out.query = path_and_query.substr(question + 1);
  return out;
}

using Params = std::vector<std::pair<std::string, std::string>>;

// "k=v&k=v" into pairs, as Mastercard's signer reads a query: split on '&', the name before the
// first '=', nothing decoded.
void add_params(std::string_view text, Params& out) {
  if (text.empty()) return;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t amp = std::min(text.find('&', at), text.size());
    const std::string_view pair = text.substr(at, amp - at);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    } else {
      out.emplace_back(pair, "");
    }
    at = amp + 1;
  }
}

std::string join_sorted(Params params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string nonce() {
  static constexpr std::string_view kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[16];
  random_bytes(bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) out += kAlphabet[b % kAlphabet.size()];
  return out;
}

}  // namespace

std::string oauth1_body_hash(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_sha256(), nullptr);
  return base64(digest, size);
}

std::string oauth1_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string oauth1_base_string(std::string_view method, std::string_view url,
                               std::string_view oauth_params) {
  const std::optional<Url> u = split_url(url);
  if (!u) return {};
  Params params;
  add_params(u->query, params);
  add_params(oauth_params, params);
  std::string upper(method);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper + "&" + oauth1_encode(u->base) + "&" + oauth1_encode(join_sorted(std::move(params)));
}

struct OAuth1Signer::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

OAuth1Signer::OAuth1Signer(std::unique_ptr<Key> key, std::string consumer_key)
    : key_(std::move(key)), consumer_key_(std::move(consumer_key)) {}

OAuth1Signer::~OAuth1Signer() = default;

std::unique_ptr<OAuth1Signer> OAuth1Signer::from_bio(void* bio, std::string consumer_key,
                                                     std::string* error) {
  auto key = std::make_unique<Key>();
  key->pkey =
      bio ? PEM_read_bio_PrivateKey(static_cast<BIO*>(bio), nullptr, nullptr, nullptr) : nullptr;
  BIO_free(static_cast<BIO*>(bio));
  if (!key->pkey || EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA) {
    if (error) *error = "no RSA private key in PEM form";
    return nullptr;
  }
  return std::unique_ptr<OAuth1Signer>(new OAuth1Signer(std::move(key), std::move(consumer_key)));
}

std::unique_ptr<OAuth1Signer> OAuth1Signer::from_pem(std::string_view pem, std::string consumer_key,
                                                     std::string* error) {
  return from_bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                  std::move(consumer_key), error);
}

std::unique_ptr<OAuth1Signer> OAuth1Signer::from_pem_file(const std::string& path,
                                                          std::string consumer_key,
                                                          std::string* error) {
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (!bio) {
    if (error) *error = "cannot read the signing key file " + path;
    return nullptr;
  }
  auto signer = from_bio(bio, std::move(consumer_key), error);
  if (!signer && error) *error += " in " + path;
  return signer;
}

std::string OAuth1Signer::authorization(std::string_view method, std::string_view url,
                                        std::string_view body) const {
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  return authorization(method, url, body, nonce(), now_s);
}

std::string OAuth1Signer::authorization(std::string_view method, std::string_view url,
                                        std::string_view body, std::string_view nonce_text,
                                        std::int64_t timestamp_s) const {
  // In the order Mastercard's signers write them.
  const Params oauth{
      {"oauth_body_hash", oauth1_body_hash(body)},      {"oauth_consumer_key", consumer_key_},
      {"oauth_nonce", std::string(nonce_text)},         {"oauth_signature_method", "RSA-SHA256"},
      {"oauth_timestamp", std::to_string(timestamp_s)}, {"oauth_version", "1.0"}};
  std::string oauth_params;
  for (const auto& [k, v] : oauth) {
    if (!oauth_params.empty()) oauth_params += '&';
    oauth_params.append(k).append("=").append(v);
  }
  const std::string sbs = oauth1_base_string(method, url, oauth_params);
  if (sbs.empty()) return {};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t size = 0;
  std::vector<unsigned char> signature;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(sbs.data()),
                           sbs.size()) == 1;
  if (ok) {
    signature.resize(size);
    ok = EVP_DigestSign(ctx, signature.data(), &size,
                        reinterpret_cast<const unsigned char*>(sbs.data()), sbs.size()) == 1;
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  std::string header = "OAuth ";
  for (const auto& [k, v] : oauth) header.append(k).append("=\"").append(v).append("\",");
  header += "oauth_signature=\"" + oauth1_encode(base64(signature.data(), size)) + "\"";
  return header;
}

}  // namespace payoutd::rails
