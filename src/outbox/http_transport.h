#pragma once
// The outbox's HTTP transport: POSTs JSON with libcurl from threads of its own, shared in turns
// between tenants, each holding at most `tenant_threads_max` of them (outbox/work_pool.h). Only
// http and https, no redirects, bounded connect and total times. Proxy variables of the
// environment (http_proxy, https_proxy, all_proxy, no_proxy) are ignored: it connects directly,
// or through `proxy_url` when one is configured.
//
// Unless private targets are allowed (the sandbox), a target that resolves to an address that
// is not public (loopback, private, link-local, documentation, NAT64 or 6to4 forms of those, ...:
// is_private_address) is refused at connect time, so a partner's callback URL cannot reach into
// the operator's network (the check is on the address actually connected to, not the name).
// Through a proxy it connects only to the proxy, whose address is not checked: the proxy then
// decides where a callback may go.
#include <memory>
#include <string>

#include "outbox/dispatcher.h"

namespace payoutd::outbox {

struct HttpTransportOptions {
  int threads = 8;
  int tenant_threads_max = 2;  // threads one tenant's sends may hold at once; 0: all of them
  long connect_timeout_ms = 2000;
  long timeout_ms = 15000;
  bool allow_private_targets = false;
  std::string proxy_url;  // e.g. http://proxy.internal:3128; empty: directly
  std::string user_agent = "payoutd-callbacks/1";
  std::string thread_name = "callbacks";  // at most 15 characters
};

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(HttpTransportOptions options);
  ~HttpTransport() override;
  void post(Parcel parcel, std::function<void(Delivery)> done) override;
  void stop() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether an address (as text) is one a callback may not reach outside the sandbox: every block
// of IANA's IPv4 and IPv6 special-purpose registries that is not globally reachable (and a few
// that are but serve no receiver: anycast relays, the 2001::/23 assignments), multicast,
// reserved space, and the NAT64, 6to4 and IPv4-mapped forms of such IPv4 addresses. Anything
// that is not an address is refused too.
bool is_private_address(const std::string& address);

}  // namespace payoutd::outbox
