#pragma once
// Internal to http/: the server's state (Server::Impl: the I/O threads, the listeners, the
// connection registries, the drain) and one connection (Session). server.cc accepts and runs the
// threads, session.cc serves a connection, tls.cc holds what TLS adds. Includes Asio and Beast
// (not Asio's ssl: tls.h); only http/'s own sources include this.
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "core/log_limit.h"
#include "http/request_reader.h"
#include "http/server.h"

namespace payoutd::http {

using tcp = asio::ip::tcp;

// Nanoseconds: fine enough that two connections never seem idle since the same instant.
inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Session;
class TlsContext;
struct TlsStream;

struct Server::Impl {
  Impl(ServerOptions o, Handler h)
      : options(std::move(o)), handler(std::move(h)), io(1), signals(io), reload_signals(io) {
    if (options.handle_signals) {
      signals.add(SIGTERM);
      signals.add(SIGINT);
      reload_signals.add(SIGHUP);
    }
  }

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
  // Per listener (Listener::index): set while its accepting waits for an evicted connection to
  // close (see accept()). Here rather than in Listener for the same reason as the registries.
  static constexpr std::size_t kListenersMax = 2;  // plain HTTP and TLS
  std::array<std::atomic<bool>, kListenersMax> parked{};
  // One io_context per further I/O thread, each run by exactly one thread: a session lives on
  // one context and needs no strand, and the kernel's TCP work spreads over the threads.
  std::vector<std::unique_ptr<asio::io_context>> more_io;
  // Declared after more_io, so destroyed before it: `io`'s pending accept owns a socket of one of
  // the further contexts.
  asio::io_context io;  // the first I/O thread's: the listeners, signals, drain, reloads
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_context = 0;
  // A listening socket, plain or TLS. Its accepts run on `io`; the connections it accepts are
  // spread over every context.
  struct Listener {
    Listener(asio::io_context& context, std::size_t i, bool is_tls)
        : acceptor(context), pause(context), index(i), tls(is_tls) {}
    tcp::acceptor acceptor;
    asio::steady_timer pause;  // accepting waits after running out of descriptors
    const std::size_t index;   // in `listeners` and `parked`
    const bool tls;
  };
  std::vector<std::unique_ptr<Listener>> listeners;
  // The TLS files the TLS listener's new connections get (on `io` only: accepts and reloads).
  std::shared_ptr<TlsContext> tls_context;
  std::vector<std::function<void()>> reload_hooks;
  asio::signal_set signals;
  asio::signal_set reload_signals;
  std::vector<std::unique_ptr<asio::steady_timer>> sweepers;  // one per context, on it
  // A descriptor held in reserve (/dev/null): when the process has none left, it is closed to
  // accept one waiting connection, answer it 503 and close it, then reopened.
  int spare_descriptor = -1;
  LogLimit accept_log;
  LogLimit refusal_log;
  LogLimit handshake_log;
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

  void bind(Listener& listener, const std::string& host, std::uint16_t port);
  void accept(Listener& listener);
  bool admit(tcp::socket socket, std::size_t context_index, const Listener& listener);
  void connection_closed();
  void resume_accepting();
  void on_accept_failure(const beast::error_code& ec, Listener& listener);
  bool evict_longest_idle();
  void shed_with_spare(Listener& listener);
  void await_reload();
  void reload_tls();  // on `io`
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
    kHandshake,  // a TLS connection's handshake, from its accept: read_timeout_s
    kIdle,       // waiting for a request's first byte: idle_timeout_s
    kReading,    // a request has begun: read_timeout_s from its first byte
    kHandling,   // the handler has the request: no deadline (the engine bounds it)
    kWriting,    // the answer is being written: write_timeout_s
    kLingering,  // closing after "Connection: close", discarding what still comes: read_timeout_s
  };

  // `tls`: the TLS files of a connection to the TLS listener; null for plain HTTP.
  Session(tcp::socket socket, Server::Impl& server, std::size_t context_index,
          std::shared_ptr<TlsContext> tls);

  ~Session();

  // On the accepting thread, before start(): from now on the sweep and the evictions see the
  // connection, idle since it was accepted, even while its own thread is busy elsewhere.
  void join_registry() {
    auto& registry = *server_.registries[context_index_];
    std::lock_guard lock(registry.mutex);
    registry_entry_ = registry.sessions.insert(registry.sessions.end(), weak_from_this());
    registered_ = true;
  }

  // On the session's context.
  void start();

  // On the session's context (its sweep): ends the connection if its phase's deadline passed.
  void expire(std::int64_t now_ns);

  // Any thread: since when the connection waits for its next request; -1 if it does not.
  std::int64_t idle_since_ns() const { return idle_since_ns_.load(std::memory_order_relaxed); }

  // Any thread: makes room for a new connection by closing this one, provided it still waits
  // for a request since `since_ns`. False if it has moved on (or another eviction claimed it).
  bool evict(std::int64_t since_ns);

  // On the session's context only.
  void write(Response r);

 private:
  static constexpr std::int64_t kNotIdle = -1;
  static constexpr std::int64_t kEvicted = -2;

  // -1: none.
  std::int64_t deadline_s(Phase phase) const;

  void enter(Phase phase);

  // Through TLS when the connection has it, else on the socket.
  template <typename Buffers, typename Handler>
  void read_some(const Buffers& buffers, Handler&& handler);
  template <typename Buffers, typename Handler>
  void write_all(const Buffers& buffers, Handler&& handler);

  // Once the client's address is known: a TLS connection's handshake, then the requests.
  void serve();
  // A TLS connection's handshake, taking first what is buffered already (the ClientHello's
  // beginning, read behind a PROXY header); then its requests (read()).
  void handshake();

  // Begins the next request: parses a pipelined one already buffered, or waits for one. A new
  // connection stays idle since it was accepted (and keeps an eviction claimed meanwhile).
  void read();

  void parse();

  // A PROXY protocol listener's first step (session_proxy.cc): reads the connection's PROXY
  // header within read_timeout_s of the connection's start, then its requests; closes the
  // connection when the header is malformed or missing.
  void read_proxy_header();
  // A peer that is no trusted proxy on a PROXY protocol listener: closed at once.
  void refuse_untrusted_peer();

  void on_read(beast::error_code ec, std::size_t bytes);

  void handle(Request request);

  // Closes an idle connection unless a request has begun to arrive: its bytes may be in the
  // kernel while this thread was busy, their read completion queued behind this call. True if
  // it closed.
  bool close_if_nothing_arrived();

  void close();

  void abort();

  // The connection's descriptor is closed: it no longer counts against connections_max.
  void release_slot();

  // Ends the connection after an answer that said "Connection: close", possibly with request
  // bytes still unread (a body over the limit): half-close, then read and discard until the peer
  // closes, so the kernel does not answer the unread bytes with a reset that could destroy our
  // answer before the client reads it. The lingering phase's deadline bounds how long this takes.
  void linger_close();

  void discard();

  tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;  // over socket_; null for plain HTTP
  std::shared_ptr<const ClientCertificate> client_certificate_;
  Server::Impl& server_;
  const std::size_t context_index_;
  RequestReader reader_;
  std::string out_;
  std::array<char, 4096> discard_buffer_;
  ClientOrigin origin_;  // the TCP peer, and the client a trusted proxy names
  bool keep_alive_ = true;
  // Set at construction: a plain connection is idle from the moment it is accepted, never
  // "since 0" (which the sweep would take for expired before the first read began); a TLS one
  // is in its handshake (the constructor says which).
  Phase phase_ = Phase::kIdle;
  std::uint64_t phases_ = 0;  // phases entered so far: tells a later check whether one changed
  std::int64_t phase_since_ns_ = steady_ns();
  std::atomic<std::int64_t> idle_since_ns_{phase_since_ns_};
  bool registered_ = false;
  std::list<std::weak_ptr<Session>>::iterator registry_entry_;
  std::uint32_t route_ = 0;          // the observer's classification of the request in hand
  std::atomic<bool> counted_{true};  // in Server::Impl::connections (admit() counted it)
};

}  // namespace payoutd::http
