#include "http/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <algorithm>
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
#include <cstring>
#include <limits>
#include <list>
#include <mutex>
#include <thread>

#include "core/log_limit.h"

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

std::int64_t retry_after_seconds(std::int64_t wait_ms) { return std::max<std::int64_t>((wait_ms + 999) / 1000, 1); }

void set_retry_after(Response& response, std::int64_t seconds) {
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
}

namespace {

// One socket read at most (Beast's own read size).
constexpr std::size_t kReadBytesMax = 64 * 1024;
// How often each I/O thread checks its connections' deadlines.
constexpr auto kSweepInterval = std::chrono::seconds(1);
// After the process ran out of descriptors, accepting waits this long before it tries again.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// An answer buffer larger than this is released after its write instead of kept for the next
// answer, so an idle connection does not hold on to the memory of a large export.
constexpr std::size_t kAnswerBufferKeptBytes = 64 * 1024;

// Nanoseconds: fine enough that two connections never seem idle since the same instant.
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
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

// True if `header_bytes` continue a line onto the next (obs-fold: CRLF then a space or a tab).
// Beast consumes a header line only once it has seen that the next one is no continuation, so
// scanning each consumed piece of the header section finds every fold.
bool has_line_folding(std::string_view header_bytes) {
  for (std::size_t eol = header_bytes.find('\n'); eol != std::string_view::npos;
       eol = header_bytes.find('\n', eol + 1)) {
    if (eol + 1 < header_bytes.size() &&
        (header_bytes[eol + 1] == ' ' || header_bytes[eol + 1] == '\t')) {
      return true;
    }
  }
  return false;
}

// RFC 9112 section 6, where Beast is lenient. Beast frames a body by "chunked" only when it is
// the last coding, and reads any other Transfer-Encoding ("xchunked", "chunked, identity") as no
// body at all: the body would then be parsed as the next request, and a proxy in front that
// frames it otherwise smuggles a request through. So a Transfer-Encoding is exactly one line of
// exactly "chunked", in HTTP/1.1, without Content-Length. (Beast itself refuses differing
// Content-Length values and a Content-Length beside "chunked".)
bool framing_acceptable(const bhttp::request<bhttp::string_body>& message) {
  const std::size_t encodings = message.count(bhttp::field::transfer_encoding);
  if (encodings == 0) return true;
  return encodings == 1 && message.version() == 11 &&
         beast::iequals(message[bhttp::field::transfer_encoding], "chunked") &&
         message.count(bhttp::field::content_length) == 0;
}

RequestProblem problem_of(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) return RequestProblem::kBodyTooLarge;
  if (ec == bhttp::error::header_limit) return RequestProblem::kHeaderTooLarge;
  return RequestProblem::kMalformed;
}

}  // namespace

// Reads a connection's requests one at a time: Beast's parser with the server's limits, then the
// framing checks Beast leaves out. A Session and parse_request() share it, so what a fuzzer
// finds through parse_request is what a connection runs. The read buffer is bounded too: Beast
// bounds the header section and the body, not a chunk's size line nor the trailer.
class RequestReader {
 public:
  enum class Step : std::uint8_t {
    kMoreBytes,  // read more into prepare(), then parse() again
    kRequest,    // the request is in `out`, complete or with its problem
    kNothing,    // the peer closed before sending a byte of a request
  };

  explicit RequestReader(const ServerOptions& options)
      : options_(options), buffer_(options.header_limit_bytes + kReadBytesMax) {}

  // Begins the next request; bytes of a pipelined one may already be buffered.
  void start() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit_bytes));
    parser_->eager(false);  // stop after the header section, to check it before the body
    header_checked_ = false;
    folded_ = false;
  }

  bool has_bytes() const { return buffer_.size() != 0; }
  // Where the next read goes. Never empty: parse() reports a full buffer as a problem.
  asio::mutable_buffer prepare() {
    return buffer_.prepare(beast::read_size(buffer_, kReadBytesMax));
  }
  void commit(std::size_t bytes) { buffer_.commit(bytes); }

  // Parses what is buffered, consuming the request's bytes.
  Step parse(Request& out) {
    while (buffer_.size() != 0) {
      beast::error_code ec;
      const auto data = buffer_.data();
      const std::size_t used = parser_->put(data, ec);
      if (!header_checked_) {
        folded_ = folded_ || has_line_folding({static_cast<const char*>(data.data()), used});
      }
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return refuse(problem_of(ec), out);
      if (!header_checked_ && parser_->is_header_done()) {
        header_checked_ = true;
        if (folded_ || !framing_acceptable(parser_->get())) {
          return refuse(RequestProblem::kMalformed, out);
        }
        parser_->eager(true);
      }
      if (parser_->is_done()) return accept(out);
      if (used == 0) break;  // nothing parsed without asking for more: read on, within deadlines
    }
    if (buffer_.size() < buffer_.max_size()) return Step::kMoreBytes;
    // A header section fills the buffer only past header_limit (Beast reports that first), so
    // this is a chunk size line or a trailer without end.
    return refuse(parser_->is_header_done() ? RequestProblem::kMalformed
                                            : RequestProblem::kHeaderTooLarge,
                  out);
  }

  // The peer closed its side of the connection.
  Step finish(Request& out) {
    if (!parser_->got_some() && buffer_.size() == 0) return Step::kNothing;
    return refuse(RequestProblem::kMalformed, out);  // a request cut short
  }

  // Whether the connection may carry another request after this one's answer.
  bool keep_alive() const { return keep_alive_; }

 private:
  Step accept(Request& out) {
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    out.method = std::string(message.method_string());
    out.target = std::string(message.target());
    out.authorization = std::string(message[bhttp::field::authorization]);
    out.cookie = std::string(message[bhttp::field::cookie]);
    out.origin = std::string(message[bhttp::field::origin]);
    out.host = std::string(message[bhttp::field::host]);
    out.accept_language = std::string(message[bhttp::field::accept_language]);
    out.body = std::move(message.body());
    out.problem = RequestProblem::kNone;
    return Step::kRequest;
  }

  // After a problem the connection ends: what follows cannot be told apart from this request.
  Step refuse(RequestProblem problem, Request& out) {
    keep_alive_ = false;
    // The request line is known once parsed, even when the problem came later (a header over
    // the limit, the framing); it picks the dialect that answers.
    out.method = std::string(parser_->get().method_string());
    out.target = std::string(parser_->get().target());
    out.problem = problem;
    return Step::kRequest;
  }

  const ServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool header_checked_ = false;
  bool folded_ = false;
  bool keep_alive_ = false;
};

std::optional<Request> parse_request(std::string_view bytes, const ServerOptions& options) {
  RequestReader reader(options);
  reader.start();
  Request request;
  for (;;) {
    // The bytes arrive as a connection's reads would bring them: as much as the buffer takes.
    const auto space = reader.prepare();
    const std::size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    reader.commit(n);
    bytes.remove_prefix(n);
    const auto step = bytes.empty() && n == 0 ? reader.finish(request) : reader.parse(request);
    if (step == RequestReader::Step::kRequest) return request;
    if (step == RequestReader::Step::kNothing) return std::nullopt;
  }
}

class Session;

struct Server::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        io(1),
        acceptor(io),
        signals(io, SIGTERM, SIGINT),
        accept_pause(io) {}

  ~Impl() {
    if (spare_descriptor >= 0) ::close(spare_descriptor);
  }

  ServerOptions options;
  Handler handler;
  // Live sessions of one I/O thread, for its deadline sweep and for making room at the cap. A
  // session removes itself when destroyed, which may happen on another thread (a Responder held
  // elsewhere) or while the contexts are destroyed (their pending handlers own sessions): so
  // these, and the count, outlive the contexts.
  struct Registry {
    std::mutex mutex;
    std::list<std::weak_ptr<Session>> sessions;
    // Every live session, taken out under the lock: a session whose last owner is the list
    // must not be destroyed while the lock is held (its destructor takes it).
    std::vector<std::shared_ptr<Session>> live();
  };
  std::vector<std::unique_ptr<Registry>> registries;
  std::atomic<std::size_t> connections{0};  // open client sockets, accepted and not yet closed
  // Set while accepting waits for an evicted connection to close (see admit()).
  std::atomic<bool> accept_parked{false};
  // One io_context per further I/O thread, each run by exactly one thread: a session lives on
  // one context and needs no strand, and the kernel's TCP work spreads over the threads.
  std::vector<std::unique_ptr<asio::io_context>> more_io;
  // Declared after more_io, so destroyed before it: `io`'s pending accept owns a socket of one of
  // the further contexts.
  asio::io_context io;  // the first I/O thread's: acceptor, signals, drain
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_context = 0;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::vector<std::unique_ptr<asio::steady_timer>> sweepers;  // one per context, on it
  asio::steady_timer accept_pause;
  // A descriptor held in reserve (/dev/null): when the process has none left, it is closed to
  // accept one waiting connection, answer it 503 and close it, then reopened.
  int spare_descriptor = -1;
  LogLimit accept_log;
  LogLimit refusal_log;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> draining{false};

  asio::io_context& context(std::size_t i) { return i == 0 ? io : *more_io[i - 1]; }
  std::size_t contexts() const { return more_io.size() + 1; }
  // Sessions are spread round-robin over the I/O threads' contexts (called on `io` only).
  std::size_t pick_context() { return next_context++ % contexts(); }

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
  bool admit(tcp::socket socket, std::size_t context_index);
  void connection_closed();
  void resume_accepting();
  void on_accept_failure(const beast::error_code& ec);
  bool evict_longest_idle();
  void shed_with_spare();
  void sweep(std::size_t context_index);
  void begin_drain(const std::function<void()>& on_drained);
  void wait_drained(std::shared_ptr<asio::steady_timer> timer,
                    std::chrono::steady_clock::time_point deadline,
                    std::function<void()> on_drained);
};

// One connection: read a request (RequestReader), hand it to the handler, write the answer
// (serialized here in one buffer: cheaper than Beast's serializer), repeat while keep-alive
// holds. Everything happens on the session's own context, the deadline checks included: the
// sweep of that context calls expire() once a second, instead of a timer per operation.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // Where the connection is; each phase but kHandling has a deadline.
  enum class Phase : std::uint8_t {
    kIdle,       // waiting for a request's first byte: idle_timeout_s
    kReading,    // a request has begun: read_timeout_s from its first byte
    kHandling,   // the handler has the request: no deadline (the engine bounds it)
    kWriting,    // the answer is being written: write_timeout_s
    kLingering,  // closing after "Connection: close", discarding what still comes: read_timeout_s
  };

  Session(tcp::socket socket, Server::Impl& server, std::size_t context_index)
      : socket_(std::move(socket)),
        server_(server),
        context_index_(context_index),
        reader_(server.options) {}

  ~Session() {
    if (registered_) {
      auto& registry = *server_.registries[context_index_];
      std::lock_guard lock(registry.mutex);
      registry.sessions.erase(registry_entry_);
    }
    release_slot();
  }

  // On the accepting thread, before start(): from now on the sweep and the evictions see the
  // connection, idle since it was accepted, even while its own thread is busy elsewhere.
  void join_registry() {
    auto& registry = *server_.registries[context_index_];
    std::lock_guard lock(registry.mutex);
    registry_entry_ = registry.sessions.insert(registry.sessions.end(), weak_from_this());
    registered_ = true;
  }

  // On the session's context.
  void start() {
    beast::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
    read();
  }

  // On the session's context (its sweep): ends the connection if its phase's deadline passed.
  void expire(std::int64_t now_ns) {
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

  // Any thread: since when the connection waits for its next request; -1 if it does not.
  std::int64_t idle_since_ns() const { return idle_since_ns_.load(std::memory_order_relaxed); }

  // Any thread: makes room for a new connection by closing this one, provided it still waits
  // for a request since `since_ns`. False if it has moved on (or another eviction claimed it).
  bool evict(std::int64_t since_ns) {
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
    enter(Phase::kWriting);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->server_.in_flight.fetch_sub(1, std::memory_order_relaxed);
                        if (self->out_.capacity() > kAnswerBufferKeptBytes) {
                          std::string().swap(self->out_);
                        }
                        if (ec) return self->close();
                        if (!keep) return self->linger_close();
                        self->read();
                      });
  }

 private:
  static constexpr std::int64_t kNotIdle = -1;
  static constexpr std::int64_t kEvicted = -2;

  // -1: none.
  std::int64_t deadline_s(Phase phase) const {
    const ServerOptions& o = server_.options;
    switch (phase) {
      case Phase::kIdle: return o.idle_timeout_s;
      case Phase::kReading: return o.read_timeout_s;
      case Phase::kHandling: return -1;
      case Phase::kWriting: return o.write_timeout_s;
      case Phase::kLingering: return o.read_timeout_s;
    }
    return -1;
  }

  void enter(Phase phase) {
    phase_ = phase;
    ++phases_;
    phase_since_ns_ = steady_ns();
    idle_since_ns_.store(phase == Phase::kIdle ? phase_since_ns_ : kNotIdle,
                         std::memory_order_relaxed);
  }

  // Begins the next request: parses a pipelined one already buffered, or waits for one. A new
  // connection stays idle since it was accepted (and keeps an eviction claimed meanwhile).
  void read() {
    reader_.start();
    if (reader_.has_bytes()) {
      enter(Phase::kReading);
    } else if (phase_ != Phase::kIdle) {
      enter(Phase::kIdle);
    }
    parse();
  }

  void parse() {
    Request request;
    if (reader_.parse(request) == RequestReader::Step::kRequest) return handle(std::move(request));
    socket_.async_read_some(reader_.prepare(),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(beast::error_code ec, std::size_t bytes) {
    if (ec == asio::error::eof) {
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

  void handle(Request request) {
    keep_alive_ = reader_.keep_alive();
    request.peer_address = peer_;
    enter(Phase::kHandling);
    server_.in_flight.fetch_add(1, std::memory_order_relaxed);
    server_.handler(std::move(request), [self = shared_from_this()](Response response) {
      self->server_.deliver(self->context_index_, self, std::move(response));
    });
  }

  // Closes an idle connection unless a request has begun to arrive: its bytes may be in the
  // kernel while this thread was busy, their read completion queued behind this call. True if
  // it closed.
  bool close_if_nothing_arrived() {
    beast::error_code ec;
    if (socket_.available(ec) != 0 && !ec) return false;
    close();
    return true;
  }

  void close() {
    idle_since_ns_.store(kNotIdle, std::memory_order_relaxed);
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
    release_slot();
  }

  void abort() {
    idle_since_ns_.store(kNotIdle, std::memory_order_relaxed);
    beast::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
    release_slot();
  }

  // The connection's descriptor is closed: it no longer counts against connections_max.
  void release_slot() {
    if (!counted_.exchange(false, std::memory_order_relaxed)) return;
    server_.connection_closed();
  }

  // Ends the connection after an answer that said "Connection: close", possibly with request
  // bytes still unread (a body over the limit): half-close, then read and discard until the peer
  // closes, so the kernel does not answer the unread bytes with a reset that could destroy our
  // answer before the client reads it. The lingering phase's deadline bounds how long this takes.
  void linger_close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    enter(Phase::kLingering);
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
  RequestReader reader_;
  std::string out_;
  std::array<char, 4096> discard_buffer_;
  std::string peer_;
  bool keep_alive_ = true;
  // Set at construction: a connection is idle from the moment it is accepted, never "since 0"
  // (which the sweep would take for expired before the first read began).
  Phase phase_ = Phase::kIdle;
  std::uint64_t phases_ = 0;  // phases entered so far: tells a later check whether one changed
  std::int64_t phase_since_ns_ = steady_ns();
  std::atomic<std::int64_t> idle_since_ns_{phase_since_ns_};
  bool registered_ = false;
  std::list<std::weak_ptr<Session>>::iterator registry_entry_;
  std::atomic<bool> counted_{true};  // in Server::Impl::connections (admit() counted it)
};

std::vector<std::shared_ptr<Session>> Server::Impl::Registry::live() {
  std::vector<std::shared_ptr<Session>> result;
  std::lock_guard lock(mutex);
  result.reserve(sessions.size());
  for (auto& weak : sessions) {
    if (auto s = weak.lock()) result.push_back(std::move(s));
  }
  return result;
}

namespace {

// Answers 503 at once, without reading the request, and closes: for a connection the server has
// no room for. What the client sent already is read first, so that the close is a FIN rather than
// a reset, which could destroy the answer before the client reads it.
void refuse(tcp::socket& socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nServer: payoutd\r\nContent-Type: application/json\r\n"
      "Content-Length: 18\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{\"status\":\"busy\"}\n";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  std::array<char, 4096> unread;
  socket.read_some(asio::buffer(unread), ec);
  socket.write_some(asio::buffer(kBusy), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

int open_spare_descriptor() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

bool descriptors_exhausted(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors ||  // EMFILE: this process's limit
         ec == boost::system::errc::too_many_files_open_in_system ||  // ENFILE
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

}  // namespace

void Server::Impl::accept() {
  const std::size_t index = pick_context();
  acceptor.async_accept(context(index), [this, index](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) return on_accept_failure(ec);
    if (!admit(std::move(socket), index)) return accept();
    // One over the cap until the connection evicted for this one has closed. Accepting more
    // meanwhile would outrun the evictions, which close on other threads' turns: park until a
    // connection closes (connection_closed), checking again after parking so no wake-up is lost.
    if (connections.load() <= options.connections_max) return accept();
    accept_parked.store(true);
    if (connections.load() <= options.connections_max && accept_parked.exchange(false)) accept();
  });
}

void Server::Impl::connection_closed() {
  connections.fetch_sub(1);
  resume_accepting();
}

// Any thread.
void Server::Impl::resume_accepting() {
  if (!accept_parked.load() || !accept_parked.exchange(false)) return;
  asio::post(io, [this] {
    if (acceptor.is_open()) accept();
  });
}

// True if the connection was admitted (possibly by evicting another), false if refused.
bool Server::Impl::admit(tcp::socket socket, std::size_t context_index) {
  if (connections.load() >= options.connections_max && !evict_longest_idle()) {
    if (const std::int64_t held = refusal_log.admit(); held >= 0) {
      spdlog::warn("{} connections open (server.connections_max) and none idle: answering 503 "
                   "({} more not logged)",
                   connections.load(), held);
    }
    refuse(socket);
    return false;
  }
  connections.fetch_add(1);
  auto session = std::make_shared<Session>(std::move(socket), *this, context_index);
  session->join_registry();
  asio::dispatch(context(context_index).get_executor(), [session] { session->start(); });
  return true;
}

// Out of descriptors (the limit is below what server.connections_max assumed, or something else
// in the process holds many): answering at once would spin on the same error, so one waiting
// connection is answered 503 through the spare descriptor, the longest-idle connection is
// closed to make room, and accepting resumes after a pause.
void Server::Impl::on_accept_failure(const beast::error_code& ec) {
  if (!descriptors_exhausted(ec)) {  // e.g. a client that reset before it was accepted
    if (const std::int64_t held = accept_log.admit(); held >= 0) {
      spdlog::warn("accept failed: {} ({} more not logged)", ec.message(), held);
    }
    return accept();
  }
  shed_with_spare();
  evict_longest_idle();
  if (const std::int64_t held = accept_log.admit(); held >= 0) {
    spdlog::warn("accept failed: {} with {} connections open; answering one 503, closing the "
                 "longest-idle connection, pausing accepts {} ms ({} more not logged)",
                 ec.message(), connections.load(), kAcceptPause.count(), held);
  }
  accept_pause.expires_after(kAcceptPause);
  accept_pause.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && acceptor.is_open()) accept();
  });
}

void Server::Impl::shed_with_spare() {
  if (spare_descriptor < 0) {  // lost to another thread last time: try to get it back first
    spare_descriptor = open_spare_descriptor();
    return;
  }
  ::close(spare_descriptor);
  tcp::socket socket(io);
  beast::error_code ec;
  acceptor.accept(socket, ec);  // the acceptor is non-blocking: would_block if none waits
  if (!ec) refuse(socket);
  spare_descriptor = open_spare_descriptor();
}

// Closes the connection that has waited longest for its next request. False if none waits
// (every connection is reading, handled or written).
bool Server::Impl::evict_longest_idle() {
  constexpr int kAttemptsMax = 3;  // the oldest may get a request between the scan and the claim
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    std::shared_ptr<Session> oldest;
    std::int64_t oldest_since_ns = std::numeric_limits<std::int64_t>::max();
    for (auto& registry : registries) {
      for (auto& session : registry->live()) {
        const std::int64_t since_ns = session->idle_since_ns();
        if (since_ns >= 0 && since_ns < oldest_since_ns) {
          oldest_since_ns = since_ns;
          oldest = session;
        }
      }
    }
    if (!oldest) return false;
    if (oldest->evict(oldest_since_ns)) return true;
  }
  return false;
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

// Each context sweeps its own sessions on its own thread, so a deadline is judged on the state
// the session's thread last left, never on a stale view from another thread.
void Server::Impl::sweep(std::size_t context_index) {
  auto& timer = *sweepers[context_index];
  timer.expires_after(kSweepInterval);
  timer.async_wait([this, context_index](beast::error_code ec) {
    if (ec) return;
    const std::int64_t now = steady_ns();
    for (auto& s : registries[context_index]->live()) s->expire(now);
    sweep(context_index);
  });
}

void Server::Impl::begin_drain(const std::function<void()>& on_drained) {
  if (draining.exchange(true)) return;
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ec;
    acceptor.close(ec);
    accept_pause.cancel();
    accept_parked.store(false);  // no closing connection resumes accepting any more
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
  for (std::size_t i = 0; i < impl_->contexts(); ++i) {
    impl_->registries.push_back(std::make_unique<Impl::Registry>());
    impl_->outboxes.push_back(std::make_unique<Impl::Outbox>());
    impl_->sweepers.push_back(std::make_unique<asio::steady_timer>(impl_->context(i)));
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
  if (!ec) acceptor.non_blocking(true, ec);  // for the spare descriptor's accept
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->options.host + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->spare_descriptor = open_spare_descriptor();
  if (impl_->spare_descriptor < 0) throw std::runtime_error("cannot open /dev/null");
  return acceptor.local_endpoint().port();
}

void Server::run(const std::function<void()>& on_drained) {
  impl_->signals.async_wait([this, on_drained](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: draining", signal);
    impl_->begin_drain(on_drained);
  });
  impl_->accept();
  for (std::size_t i = 0; i < impl_->contexts(); ++i) {
    asio::post(impl_->context(i), [this, i] { impl_->sweep(i); });
  }
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
