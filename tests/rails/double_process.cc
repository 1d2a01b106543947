#include "double_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

namespace payoutd::testing {

DoubleProcess::DoubleProcess(const char* name) {
  std::string pattern = std::string("/tmp/") + name + "-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = pattern;
  ok_ = run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 "
            "-subj '/CN=payoutd test CA'") &&
        run("openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
            "-subj /CN=127.0.0.1") &&
        run("printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext") &&
        run("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
            "-out server.crt -days 1 -extfile san.ext") &&
        run("openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt "
            "-days 1 -subj '/CN=another CA'") &&
        run("mkdir state");
  if (!ok_) ADD_FAILURE() << "openssl could not make the test's keys in " << dir_;
}

bool DoubleProcess::run(const std::string& command) {
  const std::string line = "cd '" + dir_ + "' && " + command + " >/dev/null 2>&1";
  return std::system(line.c_str()) == 0;
}

std::string DoubleProcess::start(const std::string& script, const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) return {};
  const std::string path = std::string(PAYOUTD_SOURCE_DIR) + "/tests/doubles/" + script;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(PAYOUTD_NODE));
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execv(PAYOUTD_NODE, argv.data());
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
    ADD_FAILURE() << "the double " << script << " did not start: " << text;
    return {};
  }
  return m[1].str();
}

DoubleProcess::~DoubleProcess() {
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
