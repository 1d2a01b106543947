#include "http/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <csignal>
#include <limits>
#include <thread>

#include "http/server_impl.h"
#include "http/tls.h"

// The listeners, the I/O threads, the deadline sweeps, the drain and the reloads; a connection is
// a Session (session.cc), its requests read by a RequestReader (request_reader.cc), its TLS set
// up by tls.cc.
namespace payoutd::http {

std::int64_t retry_after_seconds(std::int64_t wait_ms) {
  return std::max<std::int64_t>((wait_ms + 999) / 1000, 1);
}

void set_retry_after(Response& response, std::int64_t seconds) {
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
}

namespace {

// How often each I/O thread checks its connections' deadlines.
constexpr auto kSweepInterval = std::chrono::seconds(1);
// After the process ran out of descriptors, accepting waits this long before it tries again.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

}  // namespace

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
// a reset, which could destroy the answer before the client reads it. A TLS connection is closed
// without an answer: one would need a handshake, the work there is no room for.
void refuse(tcp::socket& socket, bool tls) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nServer: payoutd\r\nContent-Type: application/json\r\n"
      "Content-Length: 18\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{\"status\":\"busy\"}\n";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  std::array<char, 4096> unread;
  socket.read_some(asio::buffer(unread), ec);
  if (!tls) socket.write_some(asio::buffer(kBusy), ec);
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

void Server::Impl::accept(Listener& listener) {
  const std::size_t index = pick_context();
  listener.acceptor.async_accept(
      context(index), [this, index, &listener](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !listener.acceptor.is_open()) return;
        if (ec) return on_accept_failure(ec, listener);
        if (!admit(std::move(socket), index, listener)) return accept(listener);
        // One over the cap until the connection evicted for this one has closed. Accepting more
        // meanwhile would outrun the evictions, which close on other threads' turns: park until
        // a connection closes (connection_closed), checking again after parking so no wake-up
        // is lost.
        if (connections.load() <= options.connections_max) return accept(listener);
        std::atomic<bool>& waiting = parked[listener.index];
        waiting.store(true);
        if (connections.load() <= options.connections_max && waiting.exchange(false)) {
          accept(listener);
        }
      });
}

void Server::Impl::connection_closed() {
  connections.fetch_sub(1);
  resume_accepting();
}

// Any thread.
void Server::Impl::resume_accepting() {
  for (std::size_t i = 0; i < parked.size(); ++i) {
    if (!parked[i].load() || !parked[i].exchange(false)) continue;
    asio::post(io, [this, i] {
      Listener& listener = *listeners[i];
      if (listener.acceptor.is_open()) accept(listener);
    });
  }
}

// True if the connection was admitted (possibly by evicting another), false if refused.
bool Server::Impl::admit(tcp::socket socket, std::size_t context_index, const Listener& listener) {
  if (connections.load() >= options.connections_max && !evict_longest_idle()) {
    if (const std::int64_t held = refusal_log.admit(); held >= 0) {
      spdlog::warn(
          "{} connections open (server.connections_max) and none idle: answering 503 "
          "({} more not logged)",
          connections.load(), held);
    }
    refuse(socket, listener.tls);
    return false;
  }
  connections.fetch_add(1);
  auto session = std::make_shared<Session>(std::move(socket), *this, context_index,
                                           listener.tls ? tls_context : nullptr);
  session->join_registry();
  asio::dispatch(context(context_index).get_executor(), [session] { session->start(); });
  return true;
}

// Out of descriptors (the limit is below what server.connections_max assumed, or something else
// in the process holds many): answering at once would spin on the same error, so one waiting
// connection is answered 503 through the spare descriptor, the longest-idle connection is
// closed to make room, and accepting resumes after a pause.
void Server::Impl::on_accept_failure(const beast::error_code& ec, Listener& listener) {
  if (!descriptors_exhausted(ec)) {  // e.g. a client that reset before it was accepted
    if (const std::int64_t held = accept_log.admit(); held >= 0) {
      spdlog::warn("accept failed: {} ({} more not logged)", ec.message(), held);
    }
    return accept(listener);
  }
  shed_with_spare(listener);
  evict_longest_idle();
  if (const std::int64_t held = accept_log.admit(); held >= 0) {
    spdlog::warn(
        "accept failed: {} with {} connections open; answering one 503, closing the "
        "longest-idle connection, pausing accepts {} ms ({} more not logged)",
        ec.message(), connections.load(), kAcceptPause.count(), held);
  }
  listener.pause.expires_after(kAcceptPause);
  listener.pause.async_wait([this, &listener](beast::error_code wait_ec) {
    if (!wait_ec && listener.acceptor.is_open()) accept(listener);
  });
}

void Server::Impl::shed_with_spare(Listener& listener) {
  if (spare_descriptor < 0) {  // lost to another thread last time: try to get it back first
    spare_descriptor = open_spare_descriptor();
    return;
  }
  ::close(spare_descriptor);
  tcp::socket socket(io);
  beast::error_code ec;
  listener.acceptor.accept(socket, ec);  // non-blocking: would_block if none waits
  if (!ec) refuse(socket, listener.tls);
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
  asio::post(io, [this] {
    for (auto& listener : listeners) {
      beast::error_code ec;
      listener->acceptor.close(ec);
      listener->pause.cancel();
      parked[listener->index].store(false);  // no closing connection resumes accepting now
    }
    reload_signals.cancel();
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

void Server::Impl::bind(Listener& listener, const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("bad listen address " + host);
  const tcp::endpoint endpoint(address, port);
  auto& acceptor = listener.acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) acceptor.non_blocking(true, ec);  // for the spare descriptor's accept
  if (ec) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
}

// Waits for SIGHUP, again after each.
void Server::Impl::await_reload() {
  reload_signals.async_wait([this](beast::error_code ec, int) {
    if (ec) return;
    spdlog::info("SIGHUP: reloading");
    reload_tls();
    for (const auto& hook : reload_hooks) hook();
    await_reload();
  });
}

void Server::Impl::reload_tls() {
  if (!options.tls) return;
  auto loaded = TlsContext::load(*options.tls);
  if (!loaded.ok()) {
    spdlog::error("TLS reload failed, new connections keep the current certificate: {}",
                  loaded.error());
    return;
  }
  tls_context = std::move(*loaded);
  spdlog::info("TLS reloaded: new connections get {}", options.tls->cert_file);
}

std::uint16_t Server::listen() {
  Impl& impl = *impl_;
  if (impl.options.tls) {
    auto loaded = TlsContext::load(*impl.options.tls);
    if (!loaded.ok()) throw std::runtime_error(loaded.error());
    impl.tls_context = std::move(*loaded);
  }
  if (impl.options.plain) {
    impl.listeners.push_back(std::make_unique<Impl::Listener>(impl.io, 0, false));
    impl.bind(*impl.listeners.back(), impl.options.host, impl.options.port);
  }
  if (impl.options.tls) {
    impl.listeners.push_back(
        std::make_unique<Impl::Listener>(impl.io, impl.listeners.size(), true));
    impl.bind(*impl.listeners.back(), impl.options.tls->host, impl.options.tls->port);
  }
  if (impl.listeners.empty()) throw std::runtime_error("no listener: neither plain HTTP nor TLS");
  impl.spare_descriptor = open_spare_descriptor();
  if (impl.spare_descriptor < 0) throw std::runtime_error("cannot open /dev/null");
  return impl.listeners.front()->acceptor.local_endpoint().port();
}

std::uint16_t Server::tls_port() const {
  for (const auto& listener : impl_->listeners) {
    if (listener->tls) return listener->acceptor.local_endpoint().port();
  }
  return 0;
}

void Server::on_reload(std::function<void()> hook) {
  impl_->reload_hooks.push_back(std::move(hook));
}

bool Server::draining() const { return impl_->draining.load(std::memory_order_relaxed); }

void Server::run(const std::function<void()>& on_drained) {
  if (impl_->options.handle_signals) {
    impl_->signals.async_wait([this, on_drained](beast::error_code ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: draining", signal);
      impl_->begin_drain(on_drained);
    });
    impl_->await_reload();
  }
  for (auto& listener : impl_->listeners) impl_->accept(*listener);
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
  if (impl_->options.handle_signals) {
    // clear() gives the signals back their default action (termination), so they are ignored
    // right after: from here on nothing would handle them.
    impl_->signals.clear();
    impl_->reload_signals.clear();
    (void)std::signal(SIGTERM, SIG_IGN);  // the previous action, not needed: SIG_DFL
    (void)std::signal(SIGINT, SIG_IGN);
  }
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->begin_drain(nullptr); });
}

}  // namespace payoutd::http
