#pragma once
// A network's test double (tests/doubles/*.mjs) as a child process of a test, in a temporary
// directory of its own where the test makes its keys with openssl: the shared part of
// MastercardDouble and VisaDouble.
#include <sys/types.h>

#include <string>
#include <vector>

namespace payoutd::testing {

class DoubleProcess {
 public:
  // Makes the directory, a throwaway CA (ca.key, ca.crt), a server certificate for 127.0.0.1
  // signed by it (server.key, server.crt), another CA that trusts nothing here (other-ca.crt,
  // other-ca.key) and state/; ADD_FAILURE and ok() false when it cannot.
  explicit DoubleProcess(const char* name);
  ~DoubleProcess();  // SIGTERM, wait, remove the directory
  DoubleProcess(const DoubleProcess&) = delete;
  DoubleProcess& operator=(const DoubleProcess&) = delete;

  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }
  std::string file(const char* name) const { return dir_ + "/" + name; }

  // Runs a shell command in the directory, quietly: whether it exited 0.
  bool run(const std::string& command);

  // Starts tests/doubles/<script> under node with `args` and waits for its "listening on
  // https://127.0.0.1:<port>" line: that URL, or empty (ADD_FAILURE) when it does not start.
  std::string start(const std::string& script, const std::vector<std::string>& args);

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool ok_ = false;
};

}  // namespace payoutd::testing
