#pragma once
// The outbox's HTTP transport: POSTs JSON with libcurl from a few threads of its own. Only http
// and https, no redirects, bounded connect and total times. Unless private targets are allowed
// (the sandbox), a target that resolves to a loopback, private, link-local or otherwise
// non-public address is refused at connect time, so a partner's callback URL cannot reach into
// the operator's network (the check is on the address actually connected to, not the name).
#include <memory>

#include "outbox/dispatcher.h"

namespace payoutd::outbox {

struct HttpTransportOptions {
  int threads = 4;
  long connect_timeout_ms = 5000;
  long timeout_ms = 15000;
  bool allow_private_targets = false;
  std::string user_agent = "payoutd-callbacks/1";
};

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(HttpTransportOptions options);
  ~HttpTransport() override;
  void post(std::string url, std::string body, std::function<void(Delivery)> done) override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether an address (as text) is one a callback may not reach outside the sandbox.
bool is_private_address(const std::string& address);

}  // namespace payoutd::outbox
