#include "visa_double.h"

#include <fstream>

namespace payoutd::testing {

VisaDouble::VisaDouble() {
  DoubleProcess& p = process_;
  const bool keys =
      p.ok() &&
      p.run(
          "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
          "-subj /CN=payoutd-visa-project") &&
      p.run(
          "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
          "-out client.crt -days 1") &&
      p.run(
          "openssl req -newkey rsa:2048 -nodes -keyout other-client.key -out other-client.csr "
          "-subj /CN=payoutd-visa-project") &&
      p.run(
          "openssl x509 -req -in other-client.csr -CA other-ca.crt -CAkey other-ca.key "
          "-CAcreateserial -out other-client.crt -days 1");
  if (!keys) return;
  std::ofstream(p.file("password")) << kPassword << "\n";
  base_url_ = p.start("visa_direct.mjs",
                      {"--port", "0", "--cert", p.file("server.crt"), "--key", p.file("server.key"),
                       "--client-ca", p.file("ca.crt"), "--user-id", kUserId, "--password",
                       kPassword, "--state-dir", p.file("state")});
}

}  // namespace payoutd::testing
