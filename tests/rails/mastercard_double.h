#pragma once
// The Mastercard Send test double (tests/doubles/mastercard_send.mjs) as a child process of a
// test: a throwaway CA and server certificate for 127.0.0.1 and the client's RSA signing key are
// made with openssl in a temporary directory; the double runs under node over TLS and verifies
// every request's signature with Mastercard's own signer and that key's public half.
#include <sys/types.h>

#include <string>

namespace payoutd::testing {

class MastercardDouble {
 public:
  static constexpr const char* kConsumerKey = "payoutd-test!consumer";
  static constexpr const char* kPartnerId = "ptnr_BEeCrYJHh2BXTXPy_PEtp-8DBOo";

  // Makes the keys and starts the double; ADD_FAILURE and base_url() empty when it cannot.
  MastercardDouble();
  ~MastercardDouble();  // SIGTERM, wait, remove the directory

  const std::string& base_url() const { return base_url_; }  // https://127.0.0.1:<port>/send
  std::string dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  std::string signing_key_file() const { return dir_ + "/client.key"; }
  std::string other_ca_file() const { return dir_ + "/other-ca.crt"; }  // trusts nothing here
  std::string other_key_file() const { return dir_ + "/other.key"; }    // not the double's

 private:
  std::string dir_;
  std::string base_url_;
  pid_t pid_ = -1;
};

}  // namespace payoutd::testing
