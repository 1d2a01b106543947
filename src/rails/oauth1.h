#pragma once
// Mastercard's one-legged OAuth 1.0a (RFC 5849 with RSA-SHA256 and the body hash extension), as
// Mastercard's own signers build it (mastercard-oauth1-signer, npm and Java; docs/rails.md,
// "Mastercard Send"). The Authorization header is
//   OAuth oauth_body_hash="<b64>",oauth_consumer_key="<key>",oauth_nonce="<nonce>",
//         oauth_signature_method="RSA-SHA256",oauth_timestamp="<s>",oauth_version="1.0",
//         oauth_signature="<percent-encoded b64>"
// - oauth_body_hash: base64 of SHA-256 of the exact body bytes sent; of nothing for a GET.
// - The signature base string: the method in capitals, '&', the encoded base URI (scheme and
//   host in lower case, the port as written, the path; no query), '&', the encoded parameter
//   string: the URL's query parameters exactly as written in it (not decoded) and the oauth_*
//   ones but the signature, sorted by name then value, joined as k=v&k=v.
// - The signature: RSASSA-PKCS1-v1_5 with SHA-256 over that string, base64.
// Encoding is RFC 3986's (everything but A-Z a-z 0-9 - . _ ~ as %XX). Mastercard's Node signer
// escapes only the first '*' and the first '!' of a base string and leaves ' ( ) as they are,
// so the two agree whenever the URL and consumer key hold no ' ( ) and at most one '*' and one
// '!': the connector keeps its references and query values within [A-Za-z0-9._~-].
// Never write the default port (:443) in a base URL: Mastercard's Node and Java signers disagree
// on it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace payoutd::rails {

// base64(SHA-256(body)).
std::string oauth1_body_hash(std::string_view body);

// RFC 3986 percent-encoding (unreserved characters kept).
std::string oauth1_encode(std::string_view text);

// The signature base string of a request whose oauth_* parameters (all but the signature) are
// given as a parameter string fragment "k=v&k=v" (unsorted). Empty when `url` is not an
// absolute http(s) URL.
std::string oauth1_base_string(std::string_view method, std::string_view url,
                               std::string_view oauth_params);

class OAuth1Signer {
 public:
  // The RSA private key in a PEM file (PKCS#8 or PKCS#1; a Mastercard .p12 converts with
  // `openssl pkcs12 -nocerts -nodes`). Null, with the reason in `error` (never key material),
  // when the file cannot be read or holds no RSA private key.
  static std::unique_ptr<OAuth1Signer> from_pem_file(const std::string& path,
                                                     std::string consumer_key, std::string* error);
  static std::unique_ptr<OAuth1Signer> from_pem(std::string_view pem, std::string consumer_key,
                                                std::string* error);
  ~OAuth1Signer();
  OAuth1Signer(const OAuth1Signer&) = delete;
  OAuth1Signer& operator=(const OAuth1Signer&) = delete;

  // The Authorization header's value for a request, with a fresh random nonce (16 letters and
  // digits) and the current time. Empty only if signing fails (a broken key). Thread-safe.
  std::string authorization(std::string_view method, std::string_view url,
                            std::string_view body) const;
  // The same with a given nonce and timestamp (UNIX seconds): for tests against known vectors.
  std::string authorization(std::string_view method, std::string_view url, std::string_view body,
                            std::string_view nonce, std::int64_t timestamp_s) const;

  struct Key;

 private:
  OAuth1Signer(std::unique_ptr<Key> key, std::string consumer_key);
  // Reads the key from an OpenSSL BIO (void*: keeps OpenSSL out of this header) and frees it.
  static std::unique_ptr<OAuth1Signer> from_bio(void* bio, std::string consumer_key,
                                                std::string* error);
  std::unique_ptr<Key> key_;
  std::string consumer_key_;
};

}  // namespace payoutd::rails
