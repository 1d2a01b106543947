#include "mastercard_double.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

namespace payoutd::testing {

namespace {

bool run(const std::string& dir, const std::string& command) {
  const std::string line = "cd '" + dir + "' && " + command + " >/dev/null 2>&1";
  return std::system(line.c_str()) == 0;
}

bool make_keys(const std::string& dir) {
  return run(dir,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 "
             "-subj '/CN=payoutd test CA'") &&
         run(dir,
             "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
             "-subj /CN=127.0.0.1") &&
         run(dir, "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext") &&
         run(dir,
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 1 -extfile san.ext") &&
         run(dir, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key") &&
         run(dir, "openssl pkey -in client.key -pubout -out client.pub") &&
         run(dir, "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key") &&
         run(dir,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt "
             "-days 1 -subj '/CN=another CA'") &&
         run(dir, "mkdir state");
}

}  // namespace

MastercardDouble::MastercardDouble() {
  char pattern[] = "/tmp/mc-rail-XXXXXX";
  if (!mkdtemp(pattern)) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  if (!make_keys(dir_)) {
    ADD_FAILURE() << "openssl could not make the test's keys in " << dir_;
    return;
  }
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    const std::string script =
        std::string(PAYOUTD_SOURCE_DIR) + "/tests/doubles/mastercard_send.mjs";
    const std::string cert = dir_ + "/server.crt", key = dir_ + "/server.key";
    const std::string pub = dir_ + "/client.pub", state = dir_ + "/state";
    execl(PAYOUTD_NODE, PAYOUTD_NODE, script.c_str(), "--port", "0", "--cert", cert.c_str(),
          "--key", key.c_str(), "--client-public-key", pub.c_str(), "--state-dir", state.c_str(),
          "--consumer-key", kConsumerKey, "--partner-id", kPartnerId, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  // Its first line says where it listens.
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::regex listening("listening on (https://127\\.0\\.0\\.1:[0-9]+)");
  std::smatch m;
  char buffer[256];
  while (!std::regex_search(text, m, listening) && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(out[0]);
  if (!std::regex_search(text, m, listening)) {
    ADD_FAILURE() << "the Mastercard double did not start: " << text;
    return;
  }
  base_url_ = m[1].str() + "/send";
}

MastercardDouble::~MastercardDouble() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

}  // namespace payoutd::testing
