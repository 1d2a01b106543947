#include "outbox/http_transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace payoutd::outbox {

bool is_private_address(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    auto in = [&](std::uint32_t net, int bits) {
      return (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x7F000000, 8) || in(0xA9FE0000, 16) ||
           in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) || in(0xC0000000, 24) ||
           in(0xC6120000, 15) || in(0xE0000000, 4) || in(0xF0000000, 4);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    const unsigned char* b = v6.s6_addr;
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char kAny[16] = {};
    if (std::equal(b, b + 16, kLoopback) || std::equal(b, b + 16, kAny)) return true;
    if ((b[0] & 0xfe) == 0xfc) return true;                   // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;   // fe80::/10 link-local
    if (b[0] == 0xff) return true;                            // multicast
    const bool mapped = std::all_of(b, b + 10, [](unsigned char c) { return c == 0; }) &&
                        b[10] == 0xff && b[11] == 0xff;
    if (mapped) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, b + 12, text, sizeof text);
      return is_private_address(text);
    }
    return false;
  }
  return true;  // not an address: refuse
}

struct HttpTransport::Impl {
  struct Work {
    std::string url, body;
    std::function<void(Delivery)> done;
  };
  HttpTransportOptions options;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Work> queue;
  bool stopping = false;
  std::vector<std::thread> threads;

  explicit Impl(HttpTransportOptions o) : options(std::move(o)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < options.threads; ++i) {
      threads.emplace_back([this] {
        pthread_setname_np(pthread_self(), "callbacks");
        run();
      });
    }
  }

  ~Impl() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
    std::deque<Work> left;
    {
      std::lock_guard lock(mutex);
      left.swap(queue);
    }
    for (Work& w : left) w.done({0, false, "not sent: the server is stopping", 0});
  }

  static curl_socket_t open_socket(void* self, curlsocktype, curl_sockaddr* address) {
    auto* impl = static_cast<Impl*>(self);
    char text[INET6_ADDRSTRLEN] = {};
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address->addr)->sin_addr, text, sizeof text);
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_addr, text, sizeof text);
    }
    if (!impl->options.allow_private_targets && is_private_address(text)) return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
  }

  static std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

  void run() {
    CURL* curl = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    for (;;) {
      Work w;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) break;
        w = std::move(queue.front());
        queue.pop_front();
      }
      curl_easy_reset(curl);
      curl_easy_setopt(curl, CURLOPT_URL, w.url.c_str());
      curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, w.body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(w.body.size()));
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
      curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
      curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, this);
      const auto started = std::chrono::steady_clock::now();
      const CURLcode rc = curl_easy_perform(curl);
      Delivery d;
      d.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        d.http_status = static_cast<int>(status);
        d.accepted = status == 200;
      } else {
        d.error = rc == CURLE_COULDNT_CONNECT && !options.allow_private_targets
                      ? std::string("could not connect (or the address is not public)")
                      : std::string(curl_easy_strerror(rc));
      }
      w.done(std::move(d));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
};

HttpTransport::HttpTransport(HttpTransportOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::post(std::string url, std::string body, std::function<void(Delivery)> done) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping) {
      impl_->queue.push_back({std::move(url), std::move(body), std::move(done)});
      impl_->wake.notify_one();
      return;
    }
  }
  done({0, false, "not sent: the server is stopping", 0});
}

void HttpTransport::stop() { impl_->stop(); }

}  // namespace payoutd::outbox
