#pragma once
// The Mastercard Send test double (tests/doubles/mastercard_send.mjs) as a child process of a
// test: a throwaway CA and server certificate for 127.0.0.1 and the client's RSA signing key are
// made with openssl in a temporary directory; the double runs under node over TLS and verifies
// every request's signature with Mastercard's own signer and that key's public half.
#include <string>

#include "double_process.h"

namespace payoutd::testing {

class MastercardDouble {
 public:
  static constexpr const char* kConsumerKey = "payoutd-test!consumer";
  static constexpr const char* kPartnerId = "ptnr_BEeCrYJHh2BXTXPy_PEtp-8DBOo";

  // Makes the keys and starts the double; ADD_FAILURE and base_url() empty when it cannot.
  MastercardDouble();

  const std::string& base_url() const { return base_url_; }  // https://127.0.0.1:<port>/send
  std::string dir() const { return process_.dir(); }
  std::string ca_file() const { return process_.file("ca.crt"); }
  std::string signing_key_file() const { return process_.file("client.key"); }
  std::string other_ca_file() const { return process_.file("other-ca.crt"); }  // trusts nothing
  std::string other_key_file() const { return process_.file("other.key"); }    // not the double's

 private:
  DoubleProcess process_{"mc-rail"};
  std::string base_url_;
};

}  // namespace payoutd::testing
