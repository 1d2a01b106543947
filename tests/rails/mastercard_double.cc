#include "mastercard_double.h"

namespace payoutd::testing {

MastercardDouble::MastercardDouble() {
  DoubleProcess& p = process_;
  const bool keys =
      p.ok() &&
      p.run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key") &&
      p.run("openssl pkey -in client.key -pubout -out client.pub") &&
      p.run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key");
  if (!keys) return;
  const std::string url =
      p.start("mastercard_send.mjs",
              {"--port", "0", "--cert", p.file("server.crt"), "--key", p.file("server.key"),
               "--client-public-key", p.file("client.pub"), "--state-dir", p.file("state"),
               "--consumer-key", kConsumerKey, "--partner-id", kPartnerId});
  if (!url.empty()) base_url_ = url + "/send";
}

}  // namespace payoutd::testing
