#pragma once
// The Visa Direct test double (tests/doubles/visa_direct.mjs) as a child process of a test: a
// throwaway CA signs the double's server certificate and the project's client certificate, made
// with openssl in a temporary directory; the double requires that client certificate (two-way
// TLS) and HTTP Basic with the project's user id and password. With `mle`, Message Level Encryption
// too: the double's (Visa's) MLE key and certificate and the client's MLE key are made as well.
#include <string>

#include "double_process.h"

namespace payoutd::testing {

class VisaDouble {
 public:
  static constexpr const char* kUserId = "payoutd-test-user";
  static constexpr const char* kPassword = "s3cret:with colon";

  static constexpr const char* kMleKeyId = "payoutd-test-mle-key";

  // Makes the keys and starts the double; ADD_FAILURE and base_url() empty when it cannot.
  explicit VisaDouble(bool mle = false);

  const std::string& base_url() const { return base_url_; }  // https://127.0.0.1:<port>
  std::string ca_file() const { return process_.file("ca.crt"); }
  std::string client_cert_file() const { return process_.file("client.crt"); }
  std::string client_key_file() const { return process_.file("client.key"); }
  std::string password_file() const { return process_.file("password"); }
  // A client certificate from a CA the double does not trust.
  std::string other_cert_file() const { return process_.file("other-client.crt"); }
  std::string other_key_file() const { return process_.file("other-client.key"); }
  // MLE: Visa's MLE server certificate, and the client's own MLE private key.
  std::string mle_server_cert_file() const { return process_.file("server-mle.crt"); }
  std::string mle_private_key_file() const { return process_.file("client-mle.key"); }

 private:
  DoubleProcess process_{"visa-rail"};
  std::string base_url_;
};

}  // namespace payoutd::testing
