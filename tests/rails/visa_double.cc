#include "visa_double.h"

#include <fstream>

namespace payoutd::testing {

VisaDouble::VisaDouble(bool mle) {
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
  const bool mle_keys =
      !mle || (p.run("openssl req -x509 -newkey rsa:2048 -nodes -keyout server-mle.key "
                     "-out server-mle.crt -days 1 -subj '/CN=visa test MLE'") &&
               p.run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
                     "-out client-mle.key") &&
               p.run("openssl pkey -in client-mle.key -pubout -out client-mle.pub"));
  if (!keys || !mle_keys) return;
  std::ofstream(p.file("password")) << kPassword << "\n";
  std::vector<std::string> args{"--port",      "0",
                                "--cert",      p.file("server.crt"),
                                "--key",       p.file("server.key"),
                                "--client-ca", p.file("ca.crt"),
                                "--user-id",   kUserId,
                                "--password",  kPassword,
                                "--state-dir", p.file("state")};
  if (mle) {
    args.insert(args.end(),
                {"--mle-key-id", kMleKeyId, "--mle-server-key", p.file("server-mle.key"),
                 "--mle-client-public-key", p.file("client-mle.pub")});
  }
  base_url_ = p.start("visa_direct.mjs", args);
}

}  // namespace payoutd::testing
