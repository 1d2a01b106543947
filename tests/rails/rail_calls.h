#pragma once
// What the connectors' tests share: a call to a rail waited for, a GET of a double's admin
// endpoint, and a port nothing listens on.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "core/json.h"
#include "rails/https_client.h"
#include "rails/rail.h"

namespace payoutd::testing {

inline rails::Answer wait(std::future<rails::Answer>& f) {
  EXPECT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  return f.get();
}

inline rails::Answer credit(rails::CardRail& rail, rails::CreditOrder o) {
  std::promise<rails::Answer> p;
  auto f = p.get_future();
  rail.credit(std::move(o), [&p](rails::Answer a) { p.set_value(std::move(a)); });
  return wait(f);
}

inline rails::Answer status(rails::CardRail& rail, const std::string& reference,
                            rails::Program program = rails::Program::kDisbursement) {
  std::promise<rails::Answer> p;
  auto f = p.get_future();
  rail.status(reference, program, [&p](rails::Answer a) { p.set_value(std::move(a)); });
  return wait(f);
}

// A GET of `url` through a client of `options` (a double's admin endpoint): its JSON body.
inline json::Value get_json(rails::HttpsClientOptions options, const std::string& url) {
  rails::HttpsClient client(std::move(options));
  std::promise<rails::HttpsResponse> p;
  auto f = p.get_future();
  rails::HttpsRequest r;
  r.url = url;
  client.submit(r, [&p](rails::HttpsResponse response) { p.set_value(std::move(response)); });
  rails::HttpsResponse response = f.get();
  EXPECT_EQ(response.status, 200) << response.error;
  return json::parse(response.body).value.value_or(json::Value());
}

// A port nothing listens on: bound, never listened on, closed only at the end of the test.
class DeadPort {
 public:
  DeadPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t size = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &size);
    port_ = ntohs(a.sin_port);
  }
  ~DeadPort() { close(fd_); }
  DeadPort(const DeadPort&) = delete;
  DeadPort& operator=(const DeadPort&) = delete;
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace payoutd::testing
