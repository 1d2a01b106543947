// One connection (Session, declared in server_impl.h): its phases and deadlines, the answer's
// serialisation and write, and how it closes.
#include "http/server_impl.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <string>

#include "http/tls.h"

namespace payoutd::http {
namespace {

// An answer buffer larger than this is released after its write instead of kept for the next
// answer, so an idle connection does not hold on to the memory of a large export.
constexpr std::size_t kAnswerBufferKeptBytes = std::size_t{64} * 1024;

// The standard reason phrase of every registered status code (Beast keeps the IANA registry); a
// code outside it gets an empty phrase, which the status line allows (RFC 9112, section 4).
std::string_view reason_phrase(int status) {
  const auto code = boost::beast::http::int_to_status(static_cast<unsigned>(status));
  if (code == boost::beast::http::status::unknown) return {};
  const auto phrase = boost::beast::http::obsolete_reason(code);
  return {phrase.data(), phrase.size()};
}

bool header_safe(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

Session::Session(tcp::socket socket, Server::Impl& server, std::size_t context_index,
                 std::shared_ptr<TlsContext> tls)
    : socket_(std::move(socket)),
      server_(server),
      context_index_(context_index),
      reader_(server.options) {
  if (!tls) return;
  tls_ = std::make_unique<TlsStream>(socket_, std::move(tls));
  phase_ = Phase::kHandshake;
  idle_since_ns_.store(kNotIdle, std::memory_order_relaxed);  // not evicted mid-handshake
}

Session::~Session() {
  if (registered_) {
    auto& registry = *server_.registries[context_index_];
    std::lock_guard lock(registry.mutex);
    registry.sessions.erase(registry_entry_);
  }
  release_slot();
}

template <typename Buffers, typename Handler>
void Session::read_some(const Buffers& buffers, Handler&& handler) {
  if (tls_) return tls_->stream.async_read_some(buffers, std::forward<Handler>(handler));
  socket_.async_read_some(buffers, std::forward<Handler>(handler));
}

template <typename Buffers, typename Handler>
void Session::write_all(const Buffers& buffers, Handler&& handler) {
  if (tls_) return asio::async_write(tls_->stream, buffers, std::forward<Handler>(handler));
  asio::async_write(socket_, buffers, std::forward<Handler>(handler));
}

void Session::start() {
  beast::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  std::string peer = ec ? std::string() : endpoint.address().to_string();
  socket_.set_option(tcp::no_delay(true), ec);
  switch (origin_.connect(std::move(peer), server_.options.client_address)) {
    case ClientOrigin::Start::kRefuse:
      return refuse_untrusted_peer();
    case ClientOrigin::Start::kProxyHeader:
      return read_proxy_header();
    case ClientOrigin::Start::kRequests:
      break;
  }
  serve();
}

void Session::serve() {
  if (tls_) return handshake();
  read();
}

void Session::handshake() {
  const std::string_view early = reader_.buffered();
  tls_->stream.async_handshake(
      asio::ssl::stream_base::server, asio::buffer(early.data(), early.size()),
      [self = shared_from_this()](beast::error_code ec, std::size_t used) {
        self->reader_.consume(used);
        if (ec) {
          // Scanners, old clients (TLS 1.0/1.1, no common cipher), plain HTTP sent to the TLS
          // port: the client was told by an alert; logged in moderation.
          if (const std::int64_t held = self->server_.handshake_log.admit(); held >= 0) {
            spdlog::info("TLS handshake with {} failed: {} ({} more not logged)",
                         self->origin_.peer(), ec.message(), held);
          }
          return self->close();
        }
        self->client_certificate_ = client_certificate_of(*self->tls_);
        self->enter(Phase::kIdle);
        self->read();
      });
}

void Session::expire(std::int64_t now_ns) {
  const std::int64_t limit_s = deadline_s(phase_);
  if (limit_s < 0 || now_ns - phase_since_ns_ < limit_s * 1'000'000'000) return;
  if (phase_ != Phase::kIdle) {
    // A reset, not a FIN after the unsent answer: the kernel frees the connection's buffers
    // at once instead of retrying a client that does not read for minutes.
    return abort();
  }
  // Judged again behind what this thread has queued already: a request read while the thread
  // was busy elsewhere has its completion in that queue, and is served rather than cut off.
  asio::post(socket_.get_executor(), [self = shared_from_this(), phase = phases_] {
    if (self->phases_ == phase) self->close_if_nothing_arrived();
  });
}

bool Session::evict(std::int64_t since_ns) {
  if (since_ns < 0 ||
      !idle_since_ns_.compare_exchange_strong(since_ns, kEvicted, std::memory_order_relaxed)) {
    return false;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    // Still idle since the claim: a request that arrived meanwhile is served, not cut off;
    // then the server stays one over the cap until some connection closes.
    if (self->idle_since_ns_.load(std::memory_order_relaxed) != kEvicted ||
        !self->close_if_nothing_arrived()) {
      self->server_.resume_accepting();
    }
  });
  return true;
}

void Session::write(Response r) {
  if (r.render_body) r.render_body(r.body);
  if (RequestObserver* o = server_.options.observer) {
    o->answered(route_, r.status, steady_ns() - phase_since_ns_);  // since kHandling began
  }
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
  enter(Phase::kWriting);
  write_all(asio::buffer(out_),
            [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
              self->server_.in_flight.fetch_sub(1, std::memory_order_relaxed);
              if (self->out_.capacity() > kAnswerBufferKeptBytes) std::string().swap(self->out_);
              if (ec) return self->close();
              if (!keep) return self->linger_close();
              self->read();
            });
}

std::int64_t Session::deadline_s(Phase phase) const {
  const ServerOptions& o = server_.options;
  switch (phase) {
    case Phase::kHandshake:
      return o.read_timeout_s;
    case Phase::kIdle:
      return o.idle_timeout_s;
    case Phase::kReading:
      return o.read_timeout_s;
    case Phase::kHandling:
      return -1;
    case Phase::kWriting:
      return o.write_timeout_s;
    case Phase::kLingering:
      return o.read_timeout_s;
  }
  return -1;
}

void Session::enter(Phase phase) {
  phase_ = phase;
  ++phases_;
  phase_since_ns_ = steady_ns();
  idle_since_ns_.store(phase == Phase::kIdle ? phase_since_ns_ : kNotIdle,
                       std::memory_order_relaxed);
}

void Session::read() {
  reader_.start();
  if (reader_.has_bytes()) {
    enter(Phase::kReading);
  } else if (phase_ != Phase::kIdle) {
    enter(Phase::kIdle);
  }
  parse();
}

void Session::parse() {
  Request request;
  if (reader_.parse(request) == RequestReader::Step::kRequest) return handle(std::move(request));
  read_some(reader_.prepare(), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
    self->on_read(ec, n);
  });
}

void Session::on_read(beast::error_code ec, std::size_t bytes) {
  // A TLS client that closes without close_notify ends its stream as a plain one does.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    Request request;
    if (reader_.finish(request) == RequestReader::Step::kRequest) {
      return handle(std::move(request));
    }
    return close();
  }
  if (ec) return close();  // reset, aborted by close(), ...
  reader_.commit(bytes);
  if (phase_ == Phase::kIdle) enter(Phase::kReading);
  parse();
}

void Session::handle(Request request) {
  keep_alive_ = reader_.keep_alive();
  request.peer_address = origin_.address_of(request.forwarded);
  request.over_tls = tls_ != nullptr;
  request.client_certificate = client_certificate_;
  if (RequestObserver* o = server_.options.observer) route_ = o->classify(request);
  enter(Phase::kHandling);
  server_.in_flight.fetch_add(1, std::memory_order_relaxed);
  server_.handler(std::move(request), [self = shared_from_this()](Response response) {
    self->server_.deliver(self->context_index_, self, std::move(response));
  });
}

bool Session::close_if_nothing_arrived() {
  beast::error_code ec;
  if (socket_.available(ec) != 0 && !ec) return false;
  close();
  return true;
}

void Session::close() {
  idle_since_ns_.store(kNotIdle, std::memory_order_relaxed);
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
  release_slot();
}

void Session::abort() {
  idle_since_ns_.store(kNotIdle, std::memory_order_relaxed);
  beast::error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
  release_slot();
}

void Session::release_slot() {
  if (!counted_.exchange(false, std::memory_order_relaxed)) return;
  server_.connection_closed();
}

void Session::linger_close() {
  enter(Phase::kLingering);
  if (tls_) {
    // close_notify, then what the client still sends is read (and dropped) until its own
    // close_notify or its close, as discard() does for plain HTTP.
    return tls_->stream.async_shutdown(
        [self = shared_from_this()](beast::error_code) { self->close(); });
  }
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  discard();
}

void Session::discard() {
  socket_.async_read_some(asio::buffer(discard_buffer_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->close();
                            self->discard();
                          });
}

}  // namespace payoutd::http
