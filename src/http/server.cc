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
#include <limits>
#include <thread>

#include "http/server_impl.h"

// The acceptor, the I/O threads, the deadline sweeps and the drain; a connection is a Session
// (session.cc), its requests read by a RequestReader (request_reader.cc).
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
      spdlog::warn(
          "{} connections open (server.connections_max) and none idle: answering 503 "
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
    spdlog::warn(
        "accept failed: {} with {} connections open; answering one 503, closing the "
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

bool Server::draining() const { return impl_->draining.load(std::memory_order_relaxed); }

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
