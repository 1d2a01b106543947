#include "http/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace payoutd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string_view Request::path() const {
  const auto q = target.find('?');
  return std::string_view(target).substr(0, q);
}

std::string_view Request::query() const {
  const auto q = target.find('?');
  return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

QueryParam query_param(std::string_view query, std::string_view name) {
  QueryParam result;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key != name) continue;
    if (result.present) {
      result.valid = false;
      continue;
    }
    result.present = true;
    std::string raw(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    for (char& c : raw) {
      if (c == '+') c = ' ';
    }
    auto decoded = percent_decode(raw);
    if (!decoded) {
      result.valid = false;
    } else {
      result.value = std::move(*decoded);
    }
  }
  return result;
}

struct Server::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        io(options.io_threads),
        acceptor(asio::make_strand(io)),
        signals(io, SIGTERM, SIGINT) {}

  ServerOptions options;
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> draining{false};

  void accept();
  void begin_drain(const std::function<void()>& on_drained);
  void wait_drained(std::shared_ptr<asio::steady_timer> timer,
                    std::chrono::steady_clock::time_point deadline,
                    std::function<void()> on_drained);
  std::function<void()> on_drained_;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void start() {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit_bytes));
    stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_s));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    Request request;
    request.peer_address = peer_;
    if (ec) {
      keep_alive_ = false;
      if (ec == bhttp::error::body_limit) {
        request.problem = RequestProblem::kBodyTooLarge;
      } else if (ec == bhttp::error::header_limit) {
        request.problem = RequestProblem::kHeaderTooLarge;
      } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
        request.problem = RequestProblem::kMalformed;
      } else {
        return close();
      }
      // The request line is known once parsed, even when the error came from a later header
      // (Content-Length over the body limit); it picks the dialect that answers.
      request.method = std::string(parser_->get().method_string());
      request.target = std::string(parser_->get().target());
    } else {
      auto& message = parser_->get();
      keep_alive_ = message.keep_alive();
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      request.authorization = std::string(message[bhttp::field::authorization]);
      request.content_type = std::string(message[bhttp::field::content_type]);
      request.body = std::move(message.body());
    }
    stream_.expires_never();
    server_.in_flight.fetch_add(1, std::memory_order_relaxed);
    server_.handler(std::move(request), [self = shared_from_this()](Response response) {
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response)]() mutable {
                   self->write(std::move(response));
                 });
    });
  }

  void write(Response r) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(bhttp::field::server, "payoutd");
    response_.set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    const bool keep = keep_alive_ && !server_.draining.load(std::memory_order_relaxed);
    response_.keep_alive(keep);
    response_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_s));
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                         self->server_.in_flight.fetch_sub(1, std::memory_order_relaxed);
                         if (ec || !keep) return self->close();
                         self->read();
                       });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::string peer_;
  bool keep_alive_ = true;
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      std::make_shared<Session>(std::move(socket), *this)->start();
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    accept();
  });
}

void Server::Impl::begin_drain(const std::function<void()>& on_drained) {
  if (draining.exchange(true)) return;
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ec;
    acceptor.close(ec);
  });
  auto timer = std::make_shared<asio::steady_timer>(io);
  wait_drained(timer,
               std::chrono::steady_clock::now() + std::chrono::seconds(options.drain_timeout_s),
               on_drained);
}

void Server::Impl::wait_drained(std::shared_ptr<asio::steady_timer> timer,
                                std::chrono::steady_clock::time_point deadline,
                                std::function<void()> on_drained) {
  if (in_flight.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (in_flight.load() != 0) {
      spdlog::warn("drain timeout with {} requests in flight", in_flight.load());
    }
    if (on_drained) on_drained();
    io.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(10));
  timer->async_wait([this, timer, deadline, on_drained](beast::error_code) {
    wait_drained(timer, deadline, on_drained);
  });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

std::uint16_t Server::listen() {
  beast::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::runtime_error("bad listen address " + impl_->options.host);
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

void Server::run(const std::function<void()>& on_drained) {
  impl_->on_drained_ = on_drained;
  impl_->signals.async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining", signal);
    impl_->begin_drain(impl_->on_drained_);
  });
  impl_->accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->options.io_threads; ++i) {
    extra.emplace_back([this] { impl_->io.run(); });
  }
  impl_->io.run();
  for (auto& t : extra) t.join();
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->begin_drain(impl_->on_drained_); });
}

}  // namespace payoutd::http
