#include "http/server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <mutex>
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

class Session;

struct Server::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        io(1),
        acceptor(io),
        signals(io, SIGTERM, SIGINT),
        sweeper(io) {}

  ServerOptions options;
  Handler handler;
  // Live sessions, for the idle sweep. A session removes itself when destroyed, which may happen
  // while `io` is destroyed (its pending handlers own sessions): so these outlive `io`.
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<Session>> sessions;
  // One io_context per further I/O thread, each run by exactly one thread: a session lives on
  // one context and needs no strand, and the kernel's TCP work spreads over the threads.
  std::vector<std::unique_ptr<asio::io_context>> more_io;
  // Declared after more_io, so destroyed before it: `io`'s pending accept owns a socket of one of
  // the further contexts.
  asio::io_context io;  // the first I/O thread's: acceptor, signals, sweep, drain
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_context = 0;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer sweeper;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> draining{false};

  asio::io_context& context(std::size_t i) { return i == 0 ? io : *more_io[i - 1]; }
  // Sessions are spread round-robin over the I/O threads' contexts (called on `io` only).
  std::size_t pick_context() { return next_context++ % (more_io.size() + 1); }

  // Answers that other threads (the engine's syncer) hand to one context's sessions. They are
  // queued and written by one handler per wake-up of that context, not one each: a batch of
  // completions costs one cross-thread wake-up instead of one per answer.
  struct Outbox {
    std::mutex mutex;
    std::vector<std::pair<std::shared_ptr<Session>, Response>> answers;
  };
  std::vector<std::unique_ptr<Outbox>> outboxes;
  void deliver(std::size_t context_index, std::shared_ptr<Session> session, Response response);

  void stop_all() {
    keep_running.clear();
    io.stop();
    for (auto& context : more_io) context->stop();
  }

  void accept();
  void sweep();
  void begin_drain(const std::function<void()>& on_drained);
  void wait_drained(std::shared_ptr<asio::steady_timer> timer,
                    std::chrono::steady_clock::time_point deadline,
                    std::function<void()> on_drained);
};

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 302: return "Found";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Status";
}

bool header_safe(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

// One connection: read a request (Beast's parser, with size limits), hand it to the handler,
// write the answer (serialized here in one buffer: cheaper than Beast's serializer), repeat while
// keep-alive holds. Idle connections are closed by the server's sweep, not per-operation timers.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server, std::size_t context_index)
      : socket_(std::move(socket)), server_(server), context_index_(context_index) {}

  ~Session() {
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(registry_entry_);
  }

  void start() {
    {
      std::lock_guard lock(server_.sessions_mutex);
      registry_entry_ = server_.sessions.insert(server_.sessions.end(), weak_from_this());
    }
    beast::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // Called by the sweep (any thread): closes the connection if it waits for a request too long.
  void close_if_idle(std::int64_t now_ms, std::int64_t idle_ms) {
    if (in_handler_.load(std::memory_order_relaxed)) return;
    if (now_ms - last_activity_ms_.load(std::memory_order_relaxed) < idle_ms) return;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit_bytes));
    last_activity_ms_.store(steady_ms(), std::memory_order_relaxed);
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof ||
        ec == asio::error::bad_descriptor) {
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
      request.cookie = std::string(message[bhttp::field::cookie]);
      request.origin = std::string(message[bhttp::field::origin]);
      request.host = std::string(message[bhttp::field::host]);
      request.accept_language = std::string(message[bhttp::field::accept_language]);
      request.body = std::move(message.body());
    }
    in_handler_.store(true, std::memory_order_relaxed);
    server_.in_flight.fetch_add(1, std::memory_order_relaxed);
    server_.handler(std::move(request), [self = shared_from_this()](Response response) {
      self->server_.deliver(self->context_index_, self, std::move(response));
    });
  }

 public:
  // On the session's context only.
  void write(Response r) {
    if (r.render_body) r.render_body(r.body);
    const bool keep = keep_alive_ && !server_.draining.load(std::memory_order_relaxed);
    out_.clear();
    out_.reserve(160 + r.body.size());
    out_.append("HTTP/1.1 ").append(std::to_string(r.status)).append(" ");
    out_.append(reason_phrase(r.status)).append("\r\nServer: payoutd\r\nContent-Type: ");
    out_.append(header_safe(r.content_type) ? r.content_type : "application/octet-stream");
    out_.append("\r\nContent-Length: ").append(std::to_string(r.body.size())).append("\r\n");
    for (const auto& [name, value] : r.headers) {
      if (!header_safe(name) || !header_safe(value)) continue;  // never split a response
      out_.append(name).append(": ").append(value).append("\r\n");
    }
    if (!keep) out_.append("Connection: close\r\n");
    out_.append("\r\n").append(r.body);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->server_.in_flight.fetch_sub(1, std::memory_order_relaxed);
                        self->in_handler_.store(false, std::memory_order_relaxed);
                        if (ec) return self->close();
                        if (!keep) return self->linger_close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

 private:
  // Ends the connection after an answer that said "Connection: close", possibly with request
  // bytes still unread (a body over the limit): half-close, then read and discard until the peer
  // closes, so the kernel does not answer the unread bytes with a reset that could destroy our
  // answer before the client reads it. The idle sweep bounds how long this may take.
  void linger_close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    last_activity_ms_.store(steady_ms(), std::memory_order_relaxed);
    discard();
  }

  void discard() {
    socket_.async_read_some(asio::buffer(discard_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->discard();
                            });
  }

  tcp::socket socket_;
  Server::Impl& server_;
  const std::size_t context_index_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string out_;
  std::array<char, 4096> discard_buffer_;
  std::string peer_;
  bool keep_alive_ = true;
  std::atomic<bool> in_handler_{false};
  std::atomic<std::int64_t> last_activity_ms_{0};
  std::list<std::weak_ptr<Session>>::iterator registry_entry_;
};

void Server::Impl::accept() {
  const std::size_t index = pick_context();
  acceptor.async_accept(context(index), [this, index](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      std::make_shared<Session>(std::move(socket), *this, index)->start();
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    accept();
  });
}

void Server::Impl::deliver(std::size_t context_index, std::shared_ptr<Session> session,
                           Response response) {
  Outbox& outbox = *outboxes[context_index];
  bool first = false;
  {
    std::lock_guard lock(outbox.mutex);
    first = outbox.answers.empty();
    outbox.answers.emplace_back(std::move(session), std::move(response));
  }
  if (!first) return;  // a flush is already on its way
  asio::post(context(context_index), [&outbox] {
    std::vector<std::pair<std::shared_ptr<Session>, Response>> answers;
    {
      std::lock_guard lock(outbox.mutex);
      answers.swap(outbox.answers);
    }
    for (auto& [s, r] : answers) s->write(std::move(r));
  });
}

void Server::Impl::sweep() {
  sweeper.expires_after(std::chrono::seconds(1));
  sweeper.async_wait([this](beast::error_code ec) {
    if (ec) return;
    const std::int64_t now = steady_ms();
    const std::int64_t idle_ms = options.idle_timeout_s * 1000LL;
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(sessions_mutex);
      for (auto& weak : sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->close_if_idle(now, idle_ms);
    live.clear();
    sweep();
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
    stop_all();
    return;
  }
  timer->expires_after(std::chrono::milliseconds(10));
  timer->async_wait([this, timer, deadline, on_drained](beast::error_code) {
    wait_drained(timer, deadline, on_drained);
  });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {
  for (int i = 1; i < impl_->options.io_threads; ++i) {
    impl_->more_io.push_back(std::make_unique<asio::io_context>(1));
    impl_->keep_running.push_back(asio::make_work_guard(*impl_->more_io.back()));
  }
  for (int i = 0; i < impl_->options.io_threads; ++i) {
    impl_->outboxes.push_back(std::make_unique<Impl::Outbox>());
  }
}

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
  impl_->signals.async_wait([this, on_drained](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining", signal);
    impl_->begin_drain(on_drained);
  });
  impl_->accept();
  impl_->sweep();
  std::vector<std::thread> extra;
  for (auto& context : impl_->more_io) {
    extra.emplace_back([this, c = context.get()] {
      pthread_setname_np(pthread_self(), "http");
      c->run();
    });
  }
  impl_->io.run();
  for (auto& t : extra) t.join();
}

}  // namespace payoutd::http
