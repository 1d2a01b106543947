// The HTTP server: parse_request (the parser and framing checks every connection runs), the
// idle sweep against a connection accepted while its I/O thread is busy, and a PROXY protocol
// listener's connections, on a real server in this process.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "http/server.h"

namespace payoutd::http {
namespace {

ServerOptions limits() {
  ServerOptions options;
  options.header_limit_bytes = 1024;
  options.body_limit_bytes = 1024;
  return options;
}

RequestProblem problem(std::string_view bytes) {
  const auto request = parse_request(bytes, limits());
  EXPECT_TRUE(request.has_value()) << bytes;
  return request ? request->problem : RequestProblem::kNone;
}

TEST(ParseRequest, WellFramedRequests) {
  auto r = parse_request("GET /a?b=c HTTP/1.1\r\nHost: x\r\nCookie: s=1\r\n\r\n", limits());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->problem, RequestProblem::kNone);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path(), "/a");
  EXPECT_EQ(r->query(), "b=c");
  EXPECT_EQ(r->cookie, "s=1");

  r = parse_request("PUT /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
                    limits());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->problem, RequestProblem::kNone);
  EXPECT_EQ(r->body, "hello");  // the pipelined request after it is not part of it

  for (const char* coding : {"chunked", "Chunked", "CHUNKED "}) {
    r = parse_request(std::string("POST /p HTTP/1.1\r\nTransfer-Encoding: ") + coding +
                          "\r\n\r\n5\r\nhello\r\n3;ext=1\r\n!!!\r\n0\r\nX-Trailer: t\r\n\r\n",
                      limits());
    ASSERT_TRUE(r) << coding;
    EXPECT_EQ(r->problem, RequestProblem::kNone) << coding;
    EXPECT_EQ(r->body, "hello!!!") << coding;
  }
  EXPECT_EQ(problem("PUT /p HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
            RequestProblem::kNone);  // RFC 9110 section 8.6 lets a recipient take one
}

TEST(ParseRequest, TransferEncodingIsExactlyOneChunked) {
  for (const char* head : {
           "POST /p HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n",
           "POST /p HTTP/1.1\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST /p HTTP/1.1\r\nContent-Length: 9\r\nTransfer-Encoding: xchunked\r\n\r\n",
           "POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       }) {
    const auto r = parse_request(std::string(head) + "4\r\nbody\r\n0\r\n\r\n", limits());
    ASSERT_TRUE(r) << head;
    EXPECT_EQ(r->problem, RequestProblem::kMalformed) << head;
    EXPECT_EQ(r->method, "POST") << head;  // what the dialect is picked by
    EXPECT_EQ(r->target, "/p") << head;
  }
}

TEST(ParseRequest, AmbiguousLinesAndLengthsAreMalformed) {
  using namespace std::literals;
  for (const std::string_view bytes : {
           "PUT /p HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"sv,
           "PUT /p HTTP/1.1\r\nContent-Length: 2, 3\r\n\r\nok!"sv,
           "PUT /p HTTP/1.1\r\nContent-Length: +2\r\n\r\nok"sv,
           "PUT /p HTTP/1.1\r\nContent-Length:\r\n 2\r\n\r\nok"sv,  // obs-fold
           "PUT /p HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"sv,            // obs-fold
           "GET /p HTTP/1.1\r\n Host: x\r\n\r\n"sv,                 // space before the first field
           "GET /p HTTP/1.1\r\nHost : x\r\n\r\n"sv,                 // space before the colon
           "GET /p HTTP/1.1\nHost: x\n\n"sv,                        // bare LF
           "GET /p HTTP/1.1\r\nHost: x\0y\r\n\r\n"sv,
           "GET /p HTTP/1.1\r\nHost: x\r\n"sv,                     // cut short
           "PUT /p HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort"sv,  // cut short
       }) {
    EXPECT_EQ(problem(bytes), RequestProblem::kMalformed) << bytes;
  }
  EXPECT_FALSE(parse_request("", limits()).has_value());
}

TEST(ParseRequest, SizesAreBounded) {
  EXPECT_EQ(problem("PUT /p HTTP/1.1\r\nContent-Length: 1025\r\n\r\n"),
            RequestProblem::kBodyTooLarge);
  EXPECT_EQ(problem("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n"),
            RequestProblem::kBodyTooLarge);
  EXPECT_EQ(problem("GET /p HTTP/1.1\r\nX-Pad: " + std::string(2000, 'a') + "\r\n\r\n"),
            RequestProblem::kHeaderTooLarge);
  // A chunk's size line and the trailer are bounded by the read buffer, not only by the peer.
  EXPECT_EQ(problem("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=" +
                    std::string(1 << 20, 'a')),
            RequestProblem::kMalformed);
  EXPECT_EQ(problem("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " +
                    std::string(1 << 20, 'a')),
            RequestProblem::kMalformed);
}

// A blocking client connection with a receive timeout.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(std::string_view bytes) {
    EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  // What arrives until the server closes (or the timeout): empty if it closed without answering.
  std::string answer() {
    std::string received;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return received;
      received.append(buffer, static_cast<std::size_t>(n));
      if (received.find("\r\n\r\nok") != std::string::npos) return received;
    }
  }
  // Everything that arrives until the server closes (or the timeout).
  std::string until_closed() {
    std::string received;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd_, buffer, sizeof buffer, 0)) > 0;) {
      received.append(buffer, static_cast<std::size_t>(n));
    }
    return received;
  }

 private:
  int fd_;
  bool connected_ = false;
};

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr std::string_view kBusy = "GET /busy HTTP/1.1\r\nHost: x\r\n\r\n";

// The issue: a new connection joined the idle sweep as "idle since 0" before its first read, so
// a sweep tick while its I/O thread was busy closed it without an answer. Here the second I/O
// thread is held for 2.5 s by a handler (as a slow parse would hold it), with a 1 s idle timeout
// and a sweep every second; a connection accepted for that thread meanwhile must be answered.
TEST(Server, ConnectionAcceptedWhileItsThreadIsBusyIsAnswered) {
  ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  options.idle_timeout_s = 1;
  std::atomic<bool> busy{false};
  Server server(options, [&](Request&& request, Responder respond) {
    if (request.path() == "/busy") {
      busy = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    }
    Response response;
    response.content_type = "text/plain";
    response.body = "ok";
    respond(std::move(response));
  });
  const std::uint16_t port = server.listen();
  // Until SIGTERM, which the server takes as the operator's: it drains and returns from run().
  struct Serving {
    std::thread thread;
    ~Serving() {
      std::raise(SIGTERM);
      thread.join();
    }
  } serving{std::thread([&] { server.run(nullptr); })};

  // Connections are spread round-robin over the two threads: first, second, first, second.
  Client first(port);
  first.send(kGet);
  EXPECT_NE(first.answer().find("200 OK"), std::string::npos);
  Client second(port);
  second.send(kBusy);
  while (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Client third(port);
  third.send(kGet);
  EXPECT_NE(third.answer().find("200 OK"), std::string::npos);
  Client fourth(port);  // for the busy thread
  ASSERT_TRUE(fourth.connected());
  fourth.send(kGet);
  EXPECT_NE(fourth.answer().find("200 OK"), std::string::npos)
      << "a new connection was closed without an answer";
  EXPECT_NE(second.answer().find("200 OK"), std::string::npos);
}

// A server in this process that answers "ok <request.peer_address>", until SIGTERM, which the
// server takes as the operator's: it drains and returns from run().
class EchoServer {
 public:
  explicit EchoServer(ServerOptions options)
      : server_(with_free_port(std::move(options)), [](Request&& request, Responder respond) {
          Response response;
          response.content_type = "text/plain";
          response.body = "ok " + request.peer_address + ";";
          respond(std::move(response));
        }) {
    port_ = server_.listen();
    thread_ = std::thread([this] { server_.run(nullptr); });
  }
  ~EchoServer() {
    std::raise(SIGTERM);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  static ServerOptions with_free_port(ServerOptions options) {
    options.port = 0;
    return options;
  }
  Server server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

ServerOptions proxy_protocol_listener(const char* trusted) {
  ServerOptions options;
  options.client_address.trusted_proxies = {*Network::parse(trusted)};
  options.client_address.proxy_protocol = true;
  return options;
}

std::size_t count(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

constexpr std::string_view kGetAndClose =
    "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.1\r\nConnection: close\r\n\r\n";

TEST(Server, AProxyHeaderNamesTheClientAndTheBytesAfterItAreRequests) {
  const EchoServer server(proxy_protocol_listener("127.0.0.1/32"));
  {
    // The header and two pipelined requests in one segment: no byte after the header is lost.
    Client proxy(server.port());
    proxy.send(std::string("PROXY TCP4 192.0.2.7 127.0.0.1 5000 80\r\n") + std::string(kGet) +
               std::string(kGetAndClose));
    const std::string answers = proxy.until_closed();
    EXPECT_EQ(count(answers, "ok 192.0.2.7;"), 2u) << answers;  // X-Forwarded-For is not read
  }
  {
    // The header in pieces, as a slow network may deliver it.
    Client proxy(server.port());
    proxy.send("PROXY TCP6 2001:db8::7 ::1 ");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    proxy.send("5000 80\r");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    proxy.send(std::string("\n") + std::string(kGetAndClose));
    EXPECT_EQ(count(proxy.until_closed(), "ok 2001:db8::7;"), 1u);
  }
  {
    // Version 2, LOCAL (the proxy's own health check): the peer is the client.
    Client proxy(server.port());
    const std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
    proxy.send(local + std::string(kGetAndClose));
    EXPECT_EQ(count(proxy.until_closed(), "ok 127.0.0.1;"), 1u);
  }
  {
    // A request without the header: closed unanswered.
    Client proxy(server.port());
    proxy.send(kGetAndClose);
    EXPECT_EQ(proxy.until_closed(), "");
  }
}

TEST(Server, APeerThatIsNoTrustedProxyIsClosedOnAProxyProtocolListener) {
  const EchoServer server(proxy_protocol_listener("10.0.0.0/8"));
  Client stranger(server.port());
  stranger.send(std::string("PROXY TCP4 192.0.2.7 127.0.0.1 5000 80\r\n") +
                std::string(kGetAndClose));
  EXPECT_EQ(stranger.until_closed(), "");
}

TEST(Server, ATrustedPeersForwardingHeaderNamesTheClientAndAStrangersDoesNot) {
  // This client's peer address is 127.0.0.1: a trusted proxy of the first server, a stranger to
  // the second.
  for (const auto& [trusted, answer] :
       {std::pair{"127.0.0.0/8", "ok 198.51.100.1;"}, std::pair{"10.0.0.0/8", "ok 127.0.0.1;"}}) {
    ServerOptions options;
    options.client_address.trusted_proxies = {*Network::parse(trusted)};
    const EchoServer server(options);
    Client client(server.port());
    client.send(kGetAndClose);
    EXPECT_EQ(count(client.until_closed(), answer), 1u) << trusted;
  }
}

}  // namespace
}  // namespace payoutd::http
